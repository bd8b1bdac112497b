"""The payment gateways' HTTP edge: PayPal and BTCPay webhooks (`POST /webhooks/<gateway>/<tenant
id>`, verified with that tenant's credentials) and where a customer comes back from a gateway's
checkout (`GET /payments/<gateway>/return?checkout=<id>`, on the tenant's own domain)."""

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ezscale import routes
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.services.payments import checkout
from ezscale.services.payments.webhooks import BadPayload, BadSignature, NotYet, handle
from ezscale.services.tenancy.tenants import HostStatus, resolve_host, tenant_session

log = logging.getLogger(__name__)


async def gateway_webhook(request: Request) -> JSONResponse:
    """One delivery: 400 for forged, stale or malformed ones, 409 to be delivered again later."""
    payload = await request.body()
    gateway, tenant_id = request.path_params["gateway"], request.path_params["tenant_id"]
    try:
        outcome = await run_in_threadpool(handle, tenant_id, gateway, payload, dict(request.headers))
    except BadSignature:
        return JSONResponse({"error": "bad signature"}, status_code=400)
    except BadPayload as error:
        log.warning("%s webhook refused: %s", gateway, error)
        return JSONResponse({"error": str(error)}, status_code=400)
    except NotYet as error:
        return JSONResponse({"error": f"not yet: {error}"}, status_code=409)
    except DomainError as error:  # the gateway could not be reached to confirm: deliver again
        log.warning("%s webhook not verified now: %s", gateway, error)
        return JSONResponse({"error": "try again later"}, status_code=503)
    return JSONResponse({"status": outcome.status, "event": outcome.event_id})


def _return(host: str, checkout_id: str, cancelled: bool) -> str:
    with central_session() as session:
        found = resolve_host(session, host)
    tenant = found.tenant
    if found.status is not HostStatus.OK or tenant is None or not checkout_id.isdigit():
        return routes.CLIENT_BILLING
    with tenant_session(tenant) as db:
        try:
            row = checkout.get_checkout(db, checkout_id=int(checkout_id))
            if not cancelled:
                checkout.refresh(db, tenant=tenant, checkout=row)
        except DomainError as error:
            log.info("return from checkout %s: %s", checkout_id, error)
            return routes.CLIENT_BILLING
        return checkout.return_target(row)


async def gateway_return(request: Request) -> Response:
    """The customer is back from the gateway: read the checkout back, then show the invoice."""
    target = await run_in_threadpool(
        _return,
        request.headers.get("host", ""),
        request.query_params.get("checkout", ""),
        request.query_params.get("cancel") == "1",
    )
    return RedirectResponse(target, status_code=303)
