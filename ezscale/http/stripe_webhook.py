"""`POST /webhooks/stripe`: Stripe's signed events, handed to the billing webhook service."""

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ezscale.services.billing.webhooks import BadPayload, BadSignature, claimed_account, handle
from ezscale.settings import Settings, get_settings

log = logging.getLogger(__name__)

# The demo's secret is in the source: anyone could sign events with it.
PUBLIC_WEBHOOK_SECRET = Settings.model_fields["stripe_webhook_secret"].default
PUBLIC_CONNECT_SECRET = Settings.model_fields["stripe_connect_webhook_secret"].default


def public_secret_refused(settings: Settings) -> bool:
    """The published default secret is accepted only by the demo (EZSCALE_DEMO, set by
    `ezscale run`); anywhere else STRIPE_WEBHOOK_SECRET must be set."""
    return settings.stripe_webhook_secret == PUBLIC_WEBHOOK_SECRET and not settings.demo


def check_webhook_secret() -> bool:
    """Log an error (at startup and on each refused event) if the secret is the public one."""
    if not public_secret_refused(get_settings()):
        return True
    log.error(
        "Stripe webhooks are refused: STRIPE_WEBHOOK_SECRET is the public demo default; "
        "set it to the signing secret of this endpoint in the Stripe dashboard."
    )
    return False


async def stripe_webhook(request: Request) -> JSONResponse:
    if not check_webhook_secret():
        return JSONResponse({"error": "webhook secret not configured"}, status_code=503)
    payload = await request.body()
    settings = get_settings()
    if (
        claimed_account(payload)
        and settings.stripe_connect_webhook_secret == PUBLIC_CONNECT_SECRET
        and not settings.demo
    ):
        log.error("Connect webhooks are refused: set STRIPE_CONNECT_WEBHOOK_SECRET (the Connect endpoint's).")
        return JSONResponse({"error": "webhook secret not configured"}, status_code=503)
    try:
        outcome = await run_in_threadpool(handle, payload, request.headers.get("stripe-signature"))
    except BadSignature:
        return JSONResponse({"error": "bad signature"}, status_code=400)
    except BadPayload as error:
        log.warning("Stripe webhook refused: %s", error)
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse({"status": outcome.status, "event": outcome.event_id})
