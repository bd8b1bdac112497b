"""`POST /webhooks/stripe`: Stripe's signed events, handed to the billing webhook service."""

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ezscale.services.billing.webhooks import BadSignature, handle

log = logging.getLogger(__name__)


async def stripe_webhook(request: Request) -> JSONResponse:
    payload = await request.body()
    try:
        outcome = await run_in_threadpool(handle, payload, request.headers.get("stripe-signature"))
    except BadSignature:
        return JSONResponse({"error": "bad signature"}, status_code=400)
    return JSONResponse({"status": outcome.status, "event": outcome.event_id})
