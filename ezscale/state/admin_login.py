"""Platform admin sign-in on the platform host: password, then TOTP (enrolled on first sign-in)."""

import reflex as rx

from ezscale import clock, routes
from ezscale.blocking import run_blocking
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.auth import AdminLoginEvent
from ezscale.models.central import PlatformAdmin
from ezscale.models.types import row_id
from ezscale.services.accounts import admins, login_guard, two_factor
from ezscale.services.accounts.auth import Client
from ezscale.services.accounts.sessions import create_admin_session
from ezscale.state.auth import AuthState

PENDING_SECONDS = 300


def _check_password(email: str, password: str, client: Client) -> int:
    with central_session() as session:
        return row_id(admins.authenticate_admin(session, email=email, password=password, client=client))


class AdminLoginState(AuthState):
    error: str = ""
    step: str = "password"  # password | code | enrol
    qr: str = ""
    secret: str = ""
    _pending_admin_id: int = 0
    _pending_until: float = 0

    def _platform_host(self) -> bool:
        tenant = self._resolve()
        if tenant is None or not tenant.is_house:
            self.error = "The platform admin area is not available on this site."
            return False
        return True

    @rx.event
    def load_login(self):
        # As on the sign-in page: a second step still pending (the load event can reach the
        # server after a quick first submit) is kept, not reset under the admin.
        self.error = ""
        if not self._pending():
            self.qr, self.secret = "", ""
        if self._admin() is not None:
            return rx.redirect(routes.ADMIN)
        self._platform_host()
        return None

    @rx.event
    async def submit_password(self, form: dict):
        if not self._platform_host():
            return
        try:
            admin_id = await run_blocking(
                _check_password, form.get("email", ""), form.get("password", ""), self._client()
            )
            with central_session() as session:
                admin = admins.get_admin(session, admin_id=admin_id)
                if admin.totp_enabled_at is None:
                    house = self._site_tenant()  # the house tenant: _platform_host() checked it
                    enrolment = two_factor.begin(session, account=admin, issuer=f"{house.name} admin")
                    self.qr, self.secret, self.step = enrolment.qr, enrolment.secret, "enrol"
                else:
                    self.step = "code"
        except DomainError as error:
            self.error = str(error)
            return
        self.error = ""
        self._pending_admin_id, self._pending_until = row_id(admin), clock.now().timestamp() + PENDING_SECONDS

    def _pending(self) -> int:
        if (
            not self._platform_host()
            or not self._pending_admin_id
            or clock.now().timestamp() > self._pending_until
        ):
            self.step, self._pending_admin_id = "password", 0
            return 0
        return self._pending_admin_id

    def _open_session(self, session, admin: PlatformAdmin, *, enrolled: bool = False):
        house = self._resolve()
        if house is None:
            self.error = "The platform admin area is not available on this site."
            return None
        client = self._client()
        if enrolled:  # verify_admin_code records the usual sign-in; this is the first one
            login_guard.record_login(
                session,
                AdminLoginEvent,
                email=admin.email,
                success=True,
                method="password+totp",
                account_id=admin.id,
                ip=client.ip,
                user_agent=client.user_agent,
            )
        token = create_admin_session(
            session, admin=admin, method="password+totp", ip=client.ip, user_agent=client.user_agent
        )
        self._pending_admin_id, self.step, self.qr, self.secret, self.error = 0, "password", "", "", ""
        return self._hand_off(house, token, admin.email, routes.ADMIN)

    @rx.event
    def submit_code(self, form: dict):
        if self.step == "enrol":
            return self._confirm_enrolment(form)
        if not (admin_id := self._pending()):
            return None
        try:
            with central_session() as session:
                admin = admins.verify_admin_code(
                    session, admin_id=admin_id, code=form.get("code", ""), client=self._client()
                )
                return self._open_session(session, admin)
        except DomainError as error:
            self.error = str(error)
            return None

    def _confirm_enrolment(self, form: dict):
        """First sign-in of an admin without a second factor: confirm the new authenticator."""
        if not (admin_id := self._pending()):
            return None
        try:
            with central_session() as session:
                admin = admins.get_admin(session, admin_id=admin_id)
                two_factor.confirm(session, account=admin, code=form.get("code", ""))
                return self._open_session(session, admin, enrolled=True)
        except DomainError as error:
            self.error = str(error)
            return None
