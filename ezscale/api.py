"""HTTP routes beside Reflex's own: host-aware theme and favicon (and, later, webhooks)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ezscale import routes
from ezscale.db import central_session
from ezscale.services.branding import favicon_svg, theme_css
from ezscale.services.tenancy import resolve_host


def _branding_for(request: Request):
    with central_session() as session:
        return resolve_host(session, request.headers.get("host", "")).branding


async def tenant_theme(request: Request) -> Response:
    return Response(
        theme_css(_branding_for(request)),
        media_type="text/css",
        headers={"Cache-Control": "no-cache", "Vary": "Host"},
    )


async def tenant_favicon(request: Request) -> Response:
    branding = _branding_for(request)
    if branding and branding.favicon_url:
        return RedirectResponse(branding.favicon_url)
    return Response(
        favicon_svg(branding),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-cache", "Vary": "Host"},
    )


api = Starlette(
    routes=[
        Route(routes.THEME_CSS, tenant_theme),
        Route(routes.FAVICON, tenant_favicon),
    ]
)
