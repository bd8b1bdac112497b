"""Impersonation hand-off on the customer's own host: `/impersonate?token=` takes a one-time
code (single use, valid for a minute, stored hashed: services.handoffs), sets the HttpOnly
session cookie (plus a visible marker the layout turns into a banner) and opens the client area;
`/impersonate/end` ends that session. Only impersonation sessions are accepted."""

from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from ezscale import routes
from ezscale.http.session_cookie import delete_session_cookie, host_tenant, set_session_cookie
from ezscale.services.accounts import handoffs
from ezscale.services.accounts.sessions import SESSION_COOKIE, current_user, end_session, session_method
from ezscale.services.customers.directory import customer_site_url
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings

MARKER_COOKIE = "ezscale_impersonating"
PREVIOUS_COOKIE = "ezscale_session_before_impersonation"


def impersonation_link(tenant: TenantInfo, session_token: str) -> str:
    """The URL on the customer's host that opens this impersonation session, once."""
    code = handoffs.issue(
        tenant_id=tenant.id, purpose="impersonation", session_token=session_token, next_path=routes.CLIENT
    )
    return f"{customer_site_url(tenant)}{routes.IMPERSONATE}?{urlencode({'token': code})}"


def _is_impersonation(tenant: TenantInfo, token: str) -> bool:
    with tenant_session(tenant) as db:
        return session_method(db, token=token) == "impersonation"


def _start(host: str, code: str, previous: str) -> Response:
    tenant = host_tenant(host)
    claimed = handoffs.claim(tenant_id=tenant.id, purpose="impersonation", code=code) if tenant else None
    token = claimed.session_token if claimed else ""
    user = current_user(tenant=tenant, token=token) if tenant and token else None
    if tenant is None or user is None or not _is_impersonation(tenant, token):
        return PlainTextResponse("This link is not valid.", status_code=403)
    response = RedirectResponse(routes.CLIENT, status_code=303)
    secure = bool(get_settings().secure_cookies)  # resolved to a bool when settings load
    if previous and previous != token:
        # On the house host the admin's own session is replaced: keep it to restore at the end.
        response.set_cookie(PREVIOUS_COOKIE, previous, httponly=True, secure=secure, samesite="lax")
    set_session_cookie(response, token)
    # Percent-encoded (the browser's cookie reader decodes it), so it is never quoted.
    response.set_cookie(MARKER_COOKIE, quote(user.email, safe=""), secure=secure, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


def _end(host: str, token: str, previous: str) -> Response:
    tenant = host_tenant(host)
    if tenant and token and _is_impersonation(tenant, token):
        end_session(tenant=tenant, token=token)
    before = current_user(tenant=tenant, token=previous) if tenant and previous else None
    restored = before is not None
    target = routes.ADMIN_CUSTOMERS if before and before.is_admin else routes.HOME
    response = RedirectResponse(target, status_code=303)
    if restored:
        set_session_cookie(response, previous)
    else:
        delete_session_cookie(response)
    response.delete_cookie(PREVIOUS_COOKIE)
    response.delete_cookie(MARKER_COOKIE)
    return response


async def impersonate_start(request: Request) -> Response:
    host, previous = request.headers.get("host", ""), request.cookies.get(SESSION_COOKIE, "")
    return await run_in_threadpool(_start, host, request.query_params.get("token", ""), previous)


async def impersonate_end(request: Request) -> Response:
    host, token = request.headers.get("host", ""), request.cookies.get(SESSION_COOKIE, "")
    return await run_in_threadpool(_end, host, token, request.cookies.get(PREVIOUS_COOKIE, ""))
