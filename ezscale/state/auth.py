"""Who is signed in on this tab: the base state of every signed-in page.

The session token lives in a cookie of this host only; each call to `_user()` re-resolves the
tenant from the Host header and validates the token against that tenant's own sessions (or, on
the platform host, the central admin sessions), so a token never works on another tenant's host.
Page states subclass AuthState and call `self._user()` (or `_customer()`, `_reseller()`,
`_admin()`) at the top of every event handler.
"""

import reflex as rx

from ezscale import routes
from ezscale.services.auth import Client
from ezscale.services.sessions import RESELLER_ROLES, AuthRole, AuthUser, current_user, end_session
from ezscale.settings import get_settings
from ezscale.state.site import SiteState

SESSION_COOKIE = "ezscale_session"


class AuthState(SiteState):
    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        same_site="lax",
        max_age=get_settings().session_hours * 3600,
        secure=get_settings().secure_cookies or None,
    )
    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    role: str = ""
    # Set by the require_* guards: the page shows "Not allowed" and no data.
    denied: bool = False

    def _user(self) -> AuthUser | None:
        """The user of this tab's session, validated now for the tenant of the current host."""
        tenant = self._resolve()
        user = current_user(tenant=tenant, token=self.session_token) if tenant else None
        self.signed_in = user is not None
        self.user_name = user.name if user else ""
        self.user_email = user.email if user else ""
        self.role = user.role if user else ""
        return user

    def _customer(self) -> AuthUser | None:
        user = self._user()
        return user if user and user.role == AuthRole.CUSTOMER else None

    def _reseller(self) -> AuthUser | None:
        user = self._user()
        return user if user and user.role in RESELLER_ROLES else None

    def _admin(self) -> AuthUser | None:
        user = self._user()
        return user if user and user.is_admin else None

    def _client(self) -> Client:
        return Client(ip=self.router.session.client_ip or "", user_agent=self.router.headers.user_agent or "")

    def _origin(self) -> str:
        """The page's origin (scheme://host:port), for links in mails and the passkey check."""
        return self.router.headers.origin or self.router.url.origin

    def _require(self, roles: frozenset[str], login_route: str):
        user = self._user()
        if user is None:
            self.denied = False
            path = self.router.url.path or "/"
            return rx.redirect(f"{login_route}?next={path}")
        self.denied = user.role not in roles
        return None

    @rx.event
    def require_customer(self):
        return self._require(frozenset({AuthRole.CUSTOMER}), routes.LOGIN)

    @rx.event
    def require_reseller(self):
        return self._require(RESELLER_ROLES, routes.LOGIN)

    @rx.event
    def require_admin(self):
        return self._require(frozenset({AuthRole.PLATFORM_ADMIN}), routes.ADMIN_LOGIN)

    @rx.event
    def load_session(self):
        """For public pages that only show who is signed in."""
        self._user()

    @rx.event
    def logout(self):
        return self._sign_out()

    def _sign_out(self):
        tenant = self._resolve()
        if tenant is not None:
            end_session(tenant=tenant, token=self.session_token)
        self.session_token = ""
        self._user()
        return [rx.remove_cookie(SESSION_COOKIE), rx.redirect(routes.LOGIN)]
