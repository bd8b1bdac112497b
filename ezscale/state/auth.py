"""Who is signed in on this tab: the base state of every signed-in page.

The session token lives in an HttpOnly cookie of this host only, set and cleared by HTTP
responses (ezscale.http.session_cookie), never by JavaScript; events read it from the headers of the
page's connection, or, right after signing in on this tab (before a page load has sent the new
cookie), from this tab's server-side state: the page itself never holds the token.

Each call to `_user()` re-resolves the tenant from the Host header and validates the token
against that tenant's own sessions (or, on the platform host, the central admin sessions), so a
token never works on another tenant's host. Page states subclass AuthState and call
`self._user()` (or `_customer()`, `_reseller()`, `_admin()`) at the top of every event handler.
"""

import json
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

import reflex as rx
from reflex.event import EventSpec

from ezscale import routes
from ezscale.services.accounts import handoffs
from ezscale.services.accounts.auth import Client
from ezscale.services.accounts.login_guard import client_ip
from ezscale.services.accounts.sessions import (
    DEVICE_COOKIE,
    RESELLER_ROLES,
    SESSION_COOKIE,
    AuthRole,
    AuthUser,
    current_user,
    end_session,
)
from ezscale.services.resellers.roles import is_owner, may_see_payments
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.state.site import SiteState

# The area pages not every role of the area may open: each one's rule, the one its service applies
# (the menus leave out those the signed-in user's role may not open).
PAGE_RULES = {
    routes.RESELLER_PAYMENT_REPORT: may_see_payments,
    routes.RESELLER_GATEWAYS: is_owner,
}


def read_cookie(header: str, name: str) -> str:
    try:
        morsel = SimpleCookie(header or "").get(name)
    except CookieError:
        return ""
    return morsel.value if morsel else ""


def fetch_then(url: str, callback, method: str = "GET") -> EventSpec:
    """Request `url` from the HTTP edge (which sets or clears cookies), then run `callback`."""
    options = f"{{method: {json.dumps(method)}, credentials: 'same-origin', redirect: 'manual'}}"
    script = f"fetch({json.dumps(url)}, {options}).then(() => true)"
    return rx.call_script(script, callback=callback)


class AuthState(SiteState):
    signed_in: bool = False
    # Server-side only (never sent to the browser): the session this tab just opened, and where
    # to go once the HTTP edge has set its cookie.
    _token: str = ""
    _after_hand_off: str = "/"
    user_name: str = ""
    user_email: str = ""
    role: str = ""
    closed: list[str] = []  # the routes of PAGE_RULES the signed-in user may not open
    # Set by the require_* guards: the page shows "Not allowed" and no data.
    denied: bool = False

    def _user(self) -> AuthUser | None:
        """The user of this tab's session, validated now for the tenant of the current host."""
        tenant = self._resolve()
        user = current_user(tenant=tenant, token=self._session_token()) if tenant else None
        if user is None and self._token:  # this tab's session ended: fall back to the cookie
            self._token = ""
            user = current_user(tenant=tenant, token=self._session_token()) if tenant else None
        self.signed_in = user is not None
        self.user_name = user.name if user else ""
        self.user_email = user.email if user else ""
        self.role = user.role if user else ""
        self.closed = [route for route, may in PAGE_RULES.items() if user and not may(user, user.tenant_id)]
        return user

    def _ip(self) -> str:
        """The client's address, for the audit log."""
        return self.router.session.client_ip or ""

    def _customer(self) -> AuthUser | None:
        user = self._user()
        return user if user and user.role == AuthRole.CUSTOMER else None

    def _reseller(self) -> AuthUser | None:
        user = self._user()
        return user if user and user.role in RESELLER_ROLES else None

    def _admin(self) -> AuthUser | None:
        user = self._user()
        return user if user and user.is_admin else None

    def _cookie(self, name: str) -> str:
        return read_cookie(self.router.headers.cookie, name)

    def _session_token(self) -> str:
        return self._token or self._cookie(SESSION_COOKIE)

    def _client(self) -> Client:
        """The client: its IP (through trusted proxies only), browser and known-device cookie."""
        headers = self.router.headers
        peer = headers.raw_headers.get("asgi-scope-client") or self.router.session.client_ip or ""
        return Client(
            ip=client_ip(peer, headers.raw_headers.get("x-forwarded-for", "")),
            user_agent=headers.user_agent or "",
            device=self._cookie(DEVICE_COOKIE),
        )

    def _origin(self) -> str:
        """The page's origin (scheme://host:port), for the passkey check; the origin guard has
        already refused connections whose Origin is not this host."""
        return self.router.headers.origin or self.router.url.origin

    def _hand_off(self, tenant: TenantInfo, token: str, email: str, next_path: str) -> EventSpec:
        """The browser POSTs to a one-time hand-off URL, whose HTTP response sets the session
        cookie (HttpOnly), then this tab goes on to `next_path`. The token itself never reaches
        the page; this tab's server-side state uses it until a page load sends the cookie."""
        code = handoffs.issue(
            tenant_id=tenant.id, purpose="login", session_token=token, email=email, next_path=next_path
        )
        self._token, self._after_hand_off = token, next_path
        self._user()
        url = f"{routes.SESSION_HANDOFF}?{urlencode({'code': code})}"
        return fetch_then(url, AuthState.handed_off, method="POST")

    @rx.event
    def handed_off(self, _done: bool):
        return rx.redirect(self._after_hand_off)

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
        return self._require_reseller()

    @rx.event
    def require_admin(self):
        return self._require_admin()

    # Plain methods for guards that run inside other handlers (an `@rx.event` handler is typed as
    # an event spec, not as a method to call).
    def _require_reseller(self):
        return self._require(RESELLER_ROLES, routes.LOGIN)

    def _require_admin(self):
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
            end_session(tenant=tenant, token=self._session_token())
        self._token = ""
        self.signed_in, self.user_name, self.user_email, self.role = False, "", "", ""
        self._after_hand_off = routes.LOGIN
        return fetch_then(routes.SIGN_OUT, AuthState.handed_off)
