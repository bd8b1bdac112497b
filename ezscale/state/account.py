"""The signed-in user's own account: profile, email, password, sessions and login history."""

import reflex as rx

from ezscale import routes
from ezscale.blocking import run_blocking
from ezscale.errors import DomainError
from ezscale.services.accounts import auth, login_guard, sessions
from ezscale.services.accounts.view import AccountProfile, account_profile
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state.auth import AuthState
from ezscale.state.messages import attempt


class AccountState(AuthState):
    profile: AccountProfile = AccountProfile()
    history: list[login_guard.SignInRow] = []
    session_count: int = 0
    error: str = ""
    message: str = ""

    def _me(self):
        user = self._user()
        return (user, self._tenant()) if user and not user.is_admin else (None, None)

    def _refresh(self, session, user_id: int) -> None:
        self.profile = account_profile(session, user_id=user_id)
        self.session_count = len(sessions.list_user_sessions(session, user_id=user_id))
        self.history = login_guard.own_history(session, user_id=user_id)

    @rx.event
    def load(self):
        self.error = self.message = ""
        user, tenant = self._me()
        if user is None:
            return rx.redirect(f"{routes.LOGIN}?next={routes.ACCOUNT}")
        with tenant_session(tenant) as session:
            self._refresh(session, user.id)
        return None

    def _run(self, action, success: str):
        user, tenant = self._me()
        if user is None:
            return rx.redirect(routes.LOGIN)

        def run() -> None:
            with tenant_session(tenant) as session:
                action(session, user, tenant)
                self._refresh(session, user.id)

        _, self.error = attempt(run)
        self.message = "" if self.error else success
        return None

    async def _run_off_loop(self, action, success: str):
        """Like _run, for actions that check or hash a password (off the event loop)."""
        user, tenant = self._me()
        if user is None:
            return rx.redirect(routes.LOGIN)

        def work():
            with tenant_session(tenant) as session:
                action(session, user, tenant)

        try:
            await run_blocking(work)
        except DomainError as error:
            self.error, self.message = str(error), ""
            return None
        with tenant_session(tenant) as session:
            self._refresh(session, user.id)
        self.error, self.message = "", success
        return None

    @rx.event
    def save_profile(self, form: dict):
        fields = {k: form.get(k, "") for k in ("name", "company", "address", "country", "tax_id")}
        return self._run(lambda s, u, t: auth.update_profile(s, user_id=u.id, **fields), "Profile saved.")

    @rx.event
    async def change_password(self, form: dict):
        if form.get("new", "") != form.get("confirm", ""):
            self.error = "The two new passwords do not match."
            return None
        keep = self._session_token()
        return await self._run_off_loop(
            lambda s, u, t: auth.change_password(
                s, user_id=u.id, current=form.get("current", ""), new=form.get("new", ""), keep_token=keep
            ),
            "Password changed. Your other sessions were signed out.",
        )

    @rx.event
    async def change_email(self, form: dict):
        return await self._run_off_loop(
            lambda s, u, t: auth.request_email_change(
                s, tenant=t, user_id=u.id, new_email=form.get("email", ""), password=form.get("password", "")
            ),
            "We sent a confirmation link to the new address.",
        )

    @rx.event
    def logout_others(self):
        keep = self._session_token()
        return self._run(
            lambda s, u, t: sessions.revoke_user_sessions(s, user_id=u.id, keep_token=keep),
            "Signed out everywhere else.",
        )

    @rx.event
    def logout_everywhere(self):
        user, tenant = self._me()
        if user is not None:
            with tenant_session(tenant) as session:
                sessions.revoke_user_sessions(session, user_id=user.id)
        return self._sign_out()
