"""HTTP routes beside Reflex's own: host-aware theme and favicon (and, later, webhooks)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ezscale import routes
from ezscale.db import central_session
from ezscale.http.impersonation import impersonate_end, impersonate_start
from ezscale.http.payments import gateway_return, gateway_webhook
from ezscale.http.reports import admin_payments_csv, admin_report, reseller_payments_csv
from ezscale.http.session_cookie import session_handoff, sign_out
from ezscale.http.stripe_webhook import stripe_webhook
from ezscale.services.tenancy.brand_assets import ASSET_ROUTE, CONTENT_TYPES, asset_file
from ezscale.services.tenancy.branding import favicon_svg, theme_css
from ezscale.services.tenancy.domains import WELL_KNOWN_PATH, tls_allowed
from ezscale.services.tenancy.tenants import HostResolution, HostStatus, resolve_host


def _resolve(request: Request) -> HostResolution:
    with central_session() as session:
        return resolve_host(session, request.headers.get("host", ""))


def _not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404, headers={"Vary": "Host"})


async def tenant_theme(request: Request) -> Response:
    found = _resolve(request)
    if found.status is HostStatus.SUSPENDED:
        return _not_found()  # a closed storefront keeps no brand (nor its custom CSS)
    return Response(
        theme_css(found.branding),
        media_type="text/css",
        headers={"Cache-Control": "no-cache", "Vary": "Host"},
    )


async def tenant_favicon(request: Request) -> Response:
    found = _resolve(request)
    if found.status is HostStatus.SUSPENDED:
        return _not_found()
    branding = found.branding
    if branding and branding.favicon_url:
        return RedirectResponse(branding.favicon_url)
    return Response(
        favicon_svg(branding),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-cache", "Vary": "Host"},
    )


async def tenant_asset(request: Request) -> Response:
    """A logo or favicon, only from the folder of an open tenant this host belongs to."""
    found = _resolve(request)
    path = (
        asset_file(found.tenant.slug, request.path_params["name"])
        if found.status is HostStatus.OK and found.tenant
        else None
    )
    if path is None:
        return _not_found()
    return FileResponse(path, media_type=CONTENT_TYPES[path.suffix[1:]], headers={"Vary": "Host"})


async def domain_verification(request: Request) -> Response:
    """Never answered here: the HTTP proof of a domain must come from the claimant's own server,
    or a domain already pointed at EZSCALE would verify for anyone who claims it."""
    return PlainTextResponse("Not found", status_code=404, headers={"Cache-Control": "no-store"})


async def caddy_ask(request: Request) -> Response:
    """Caddy's on-demand TLS asks here before issuing a certificate: 200 means go ahead."""
    with central_session() as session:
        allowed = tls_allowed(session, request.query_params.get("domain", ""))
    return PlainTextResponse("ok" if allowed else "unknown domain", status_code=200 if allowed else 404)


api = Starlette(
    routes=[
        Route(routes.THEME_CSS, tenant_theme),
        Route(routes.FAVICON, tenant_favicon),
        Route(WELL_KNOWN_PATH, domain_verification),
        Route(ASSET_ROUTE + "/{name}", tenant_asset),
        Route(routes.CADDY_ASK, caddy_ask),
        Route(routes.STRIPE_WEBHOOK, stripe_webhook, methods=["POST"]),
        Route(routes.GATEWAY_WEBHOOK, gateway_webhook, methods=["POST"]),
        Route(routes.GATEWAY_RETURN, gateway_return),
        Route(routes.ADMIN_REPORTS + "/{name}.csv", admin_report),
        Route(routes.ADMIN_PAYMENTS_CSV, admin_payments_csv),
        Route(routes.RESELLER_PAYMENT_REPORT_CSV, reseller_payments_csv),
        Route(routes.IMPERSONATE, impersonate_start),
        Route(routes.IMPERSONATE + "/end", impersonate_end),
        Route(routes.SESSION_HANDOFF, session_handoff, methods=["GET", "POST"]),  # GET: a clear 403/405
        Route(routes.SIGN_OUT, sign_out),
    ]
)
