"""The session cookie's HTTP edge: `/auth/handoff?code=` trades a sign-in's one-time code for the
HttpOnly session cookie (plus the known-device cookie) and goes on; `/auth/sign-out` clears it.

JavaScript never sees a session token: page events only ever hand the browser a code that works
once, for a minute, on the tenant's own host (services.handoffs).

A code is not bound to the browser that signed in, so the hand-off takes only a POST from the
site's own page (login CSRF: another site could otherwise sign a victim's browser into the
attacker's account by making it redeem the attacker's code).
"""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from ezscale import routes
from ezscale.db import central_session
from ezscale.http.origin_guard import is_own_origin
from ezscale.services.accounts import handoffs, login_guard
from ezscale.services.accounts.sessions import DEVICE_COOKIE, SESSION_COOKIE
from ezscale.services.tenancy.tenants import HostStatus, TenantInfo, resolve_host
from ezscale.settings import get_settings
from ezscale.state.login import safe_next


def host_tenant(host: str) -> TenantInfo | None:
    with central_session() as central:
        found = resolve_host(central, host)
    return found.tenant if found.status is HostStatus.OK else None


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=bool(settings.secure_cookies),
        samesite="lax",
    )


def delete_session_cookie(response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, secure=bool(get_settings().secure_cookies), samesite="lax"
    )


def _hand_off(host: str, code: str, device: str) -> Response:
    tenant = host_tenant(host)
    claimed = handoffs.claim(tenant_id=tenant.id, purpose="login", code=code) if tenant else None
    if claimed is None:
        return PlainTextResponse("This sign-in link is not valid any more. Please sign in again.", 403)
    response = RedirectResponse(safe_next(claimed.next_path, ""), status_code=303)
    set_session_cookie(response, claimed.session_token)
    response.set_cookie(
        DEVICE_COOKIE,
        login_guard.remember_device(email=claimed.email, token=device),
        max_age=int(login_guard.DEVICE_MEMORY.total_seconds()),
        httponly=True,
        secure=bool(get_settings().secure_cookies),
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def from_own_page(request: Request) -> bool:
    """Not sent by another site: Fetch Metadata, when the browser sends it, says same-origin, and
    an Origin header, when present, is this request's own (an old browser's cross-site form POST
    still carries Origin; clients that send neither are not browsers acting for a victim)."""
    fetch_site, origin = request.headers.get("sec-fetch-site"), request.headers.get("origin")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    return origin is None or is_own_origin(origin, request.headers.get("host", ""))


async def session_handoff(request: Request) -> Response:
    if not from_own_page(request):
        return PlainTextResponse(
            "Refused: a sign-in must be completed on this site's own page. Please sign in again.", 403
        )
    if request.method != "POST":
        return PlainTextResponse("Method not allowed", 405, headers={"Allow": "POST"})
    host, device = request.headers.get("host", ""), request.cookies.get(DEVICE_COOKIE, "")
    return await run_in_threadpool(_hand_off, host, request.query_params.get("code", ""), device)


async def sign_out(request: Request) -> Response:
    """Clears the cookie; the sign-out event has already ended the session itself."""
    response = RedirectResponse(routes.LOGIN, status_code=303)
    delete_session_cookie(response)
    response.headers["Cache-Control"] = "no-store"
    return response
