"""`GET /admin/reports/{name}.csv`: admin reports, only for a platform admin on the platform host."""

from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.analytics import PLATFORM_SCOPE
from ezscale.services.accounts.sessions import SESSION_COOKIE, current_user
from ezscale.services.analytics.reports import build_report, default_range
from ezscale.services.tenancy.tenants import HostStatus, resolve_host


def _report(host: str, token: str, name: str, params) -> Response:
    with central_session() as central:
        found = resolve_host(central, host)
        tenant = found.tenant if found.status is HostStatus.OK else None
        user = current_user(tenant=tenant, token=token) if tenant and tenant.is_house else None
        if user is None or not user.is_admin:
            return PlainTextResponse("Not allowed", status_code=403)
        start, end = default_range(clock.now().date())
        try:
            start = date.fromisoformat(params["start"]) if params.get("start") else start
            end = date.fromisoformat(params["end"]) if params.get("end") else end
            text = build_report(
                central, name=name, scope_key=params.get("scope") or PLATFORM_SCOPE, start=start, end=end
            )
        except NotFound as error:
            return PlainTextResponse(str(error), status_code=404)
        except DomainError as error:
            return PlainTextResponse(str(error), status_code=400)
        except ValueError:
            return PlainTextResponse("Dates are YYYY-MM-DD.", status_code=400)
    filename = f"{name}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


async def admin_report(request: Request) -> Response:
    return await run_in_threadpool(
        _report,
        request.headers.get("host", ""),
        request.cookies.get(SESSION_COOKIE, ""),
        request.path_params["name"],
        request.query_params,
    )
