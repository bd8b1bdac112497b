"""Signing in on a tenant's host: password (+ TOTP or recovery code), or a passkey.

Password checks run off the event loop (ezscale.blocking); a successful sign-in hands the
browser to the HTTP edge, which sets the HttpOnly session cookie (AuthState._hand_off).
"""

import json

import reflex as rx

from ezscale import clock, routes
from ezscale.blocking import run_blocking
from ezscale.errors import DomainError
from ezscale.models.tenant import User
from ezscale.models.types import row_id
from ezscale.services.accounts import auth, passkeys
from ezscale.services.accounts.sessions import AuthRole, create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.auth import AuthState

PENDING_SECONDS = 300

# Runs in the browser: ask the authenticator for an assertion and hand back its JSON.
PASSKEY_GET_JS = """(async () => {
  try {
    const options = PublicKeyCredential.parseRequestOptionsFromJSON(%s);
    const credential = await navigator.credentials.get({publicKey: options});
    return JSON.stringify(credential.toJSON());
  } catch (e) { return "error:" + e.name; }
})()"""


def home_for(role: str) -> str:
    if role == AuthRole.CUSTOMER:
        return routes.CLIENT
    return routes.ADMIN if role == AuthRole.PLATFORM_ADMIN else routes.RESELLER


def safe_next(path: str, role: str) -> str:
    """Only same-site paths (no `//host` or scheme) are followed after signing in."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path and path != routes.LOGIN:
        return path
    return home_for(role)


def _check_password(tenant: TenantInfo, email: str, password: str, client: auth.Client) -> User:
    with tenant_session(tenant) as session:
        return auth.authenticate(session, email=email, password=password, client=client)


def _check_code(tenant: TenantInfo, user_id: int, code: str, client: auth.Client) -> tuple[User, str]:
    with tenant_session(tenant) as session:
        method = auth.verify_second_factor(session, user_id=user_id, code=code, client=client)
        return auth.get_user(session, user_id=user_id), method


class LoginState(AuthState):
    error: str = ""
    step: str = "password"  # password | code
    _pending_user_id: int = 0
    _pending_tenant_id: int = 0
    _pending_until: float = 0
    _challenge: str = ""

    @rx.event
    def load_login(self):
        # The page's load event can reach the server after a quick first submit (its password
        # step done): a second-factor step still pending is kept, not reset under the visitor.
        self.error = ""
        self._code_pending()
        user = self._user()
        if user is not None and not user.is_admin:
            # A signed-in visitor goes on to where the sign-in would have gone.
            return rx.redirect(safe_next(self.router.url.query_parameters.get("next", ""), user.role))
        return None

    def _code_pending(self) -> bool:
        """Whether a second-factor step waits and has not expired (an expired one is reset)."""
        if self._pending_user_id and clock.now().timestamp() <= self._pending_until:
            return True
        self.step, self._pending_user_id = "password", 0
        return False

    def _signed_in(self, user: User, method: str, tenant: TenantInfo, *, recorded: bool = False):
        client = self._client()
        with tenant_session(tenant) as session:
            if not recorded:
                auth.record_success(session, user=user, method=method, client=client)
            token = create_user_session(
                session, user=user, method=method, ip=client.ip, user_agent=client.user_agent
            )
        self._pending_user_id, self.step, self.error = 0, "password", ""
        next_path = safe_next(self.router.url.query_parameters.get("next", ""), user.role.value)
        return self._hand_off(tenant, token, user.email, next_path)

    @rx.event
    async def submit_password(self, form: dict):
        tenant = self._resolve()
        if tenant is None:
            return None
        email, password = form.get("email", ""), form.get("password", "")
        try:
            user = await run_blocking(_check_password, tenant, email, password, self._client())
        except DomainError as error:
            self.error = str(error)
            return None
        if user.totp_enabled_at is None:
            return self._signed_in(user, "password", tenant)
        self._pending_user_id, self._pending_tenant_id = row_id(user), tenant.id
        self._pending_until = clock.now().timestamp() + PENDING_SECONDS
        self.step, self.error = "code", ""
        return None

    @rx.event
    async def submit_code(self, form: dict):
        tenant = self._resolve()
        pending = self._pending_user_id
        if tenant is None or not pending or tenant.id != self._pending_tenant_id:
            self.step = "password"
            return None
        if not self._code_pending():
            self.error = "That took too long; sign in again."
            return None
        try:
            user, method = await run_blocking(
                _check_code, tenant, pending, form.get("code", ""), self._client()
            )
        except DomainError as error:
            self.error = str(error)
            return None
        return self._signed_in(user, f"password+{method}", tenant)

    @rx.event
    def start_passkey(self):
        tenant = self._resolve()
        if tenant is None:
            return None
        challenge = passkeys.authentication_options(rp_id=self.host)
        self._challenge = challenge.challenge
        return rx.call_script(
            PASSKEY_GET_JS % json.dumps(json.loads(challenge.options_json)),
            callback=LoginState.finish_passkey,
        )

    @rx.event
    def finish_passkey(self, result: str):
        tenant = self._resolve()
        challenge, self._challenge = self._challenge, ""
        if tenant is None or not isinstance(result, str) or result.startswith("error:"):
            self.error = "Signing in with a passkey was cancelled."
            return None
        try:
            with tenant_session(tenant) as session:
                user = auth.passkey_sign_in(
                    session,
                    rp_id=self.host,
                    origin=self._origin(),
                    credential_json=result,
                    challenge=challenge,
                    client=self._client(),
                )
        except DomainError as error:
            self.error = str(error)
            return None
        return self._signed_in(user, "passkey", tenant, recorded=True)
