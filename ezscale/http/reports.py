"""CSV reports: `GET /admin/reports/{name}.csv` and `/admin/payments.csv` for a platform admin on
the platform host; `/reseller/payment-report.csv` for a reseller's owner and billing staff on
their own host (their own database only)."""

from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.analytics import PLATFORM_SCOPE
from ezscale.services.accounts.sessions import RESELLER_ROLES, SESSION_COOKIE, current_user
from ezscale.services.analytics.reports import build_report, default_range
from ezscale.services.payments import report as payment_report
from ezscale.services.tenancy.tenants import HostStatus, resolve_host, tenant_session


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


def _csv(name: str, text: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _payments(host: str, token: str, params, area: str) -> Response:
    with central_session() as central:
        found = resolve_host(central, host)
        tenant = found.tenant if found.status is HostStatus.OK else None
        user = current_user(tenant=tenant, token=token) if tenant else None
        allowed = (
            user is not None
            and tenant is not None
            and (
                (user.is_admin and tenant.is_house)
                if area == "admin"
                else (user.role in RESELLER_ROLES and user.tenant_id == tenant.id)
            )
        )
        if not allowed or user is None or tenant is None:
            return PlainTextResponse("Not allowed", status_code=403)
        try:
            start, end = payment_report.parse_period(
                params.get("start", ""), params.get("end", ""), today=clock.now().date()
            )
            if area == "admin":
                tenant_id = int(params["tenant"]) if params.get("tenant") else None
                result = payment_report.platform_report(
                    central, actor=user, tenant_id=tenant_id, start=start, end=end
                )
            else:
                with tenant_session(tenant) as db:
                    result = payment_report.reseller_report(
                        db, actor=user, tenant=tenant, start=start, end=end
                    )
        except DomainError as error:
            return PlainTextResponse(str(error), status_code=400)
        except ValueError:
            return PlainTextResponse("Dates are YYYY-MM-DD and the tenant a number.", status_code=400)
    return _csv(*payment_report.report_csv(result, with_tenant=area == "admin"))


async def admin_payments_csv(request: Request) -> Response:
    return await run_in_threadpool(
        _payments,
        request.headers.get("host", ""),
        request.cookies.get(SESSION_COOKIE, ""),
        request.query_params,
        "admin",
    )


async def reseller_payments_csv(request: Request) -> Response:
    return await run_in_threadpool(
        _payments,
        request.headers.get("host", ""),
        request.cookies.get(SESSION_COOKIE, ""),
        request.query_params,
        "reseller",
    )
