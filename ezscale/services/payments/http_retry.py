"""One retry loop for the gateways' httpx clients: the same request (with its idempotency
header) is sent again after 5xx, 429 and lost connections, with back-off; what still fails is
`GatewayUnavailable`."""

import logging
import time
from collections.abc import Callable

import httpx

from ezscale.services.payments.gateway import GatewayUnavailable

log = logging.getLogger(__name__)

RETRIES = 3
BASE_DELAY_SECONDS = 0.2


def send(
    call: Callable[[], httpx.Response],
    *,
    what: str,
    retries: int = RETRIES,
    sleep: Callable[[float], None] = time.sleep,
    base_delay: float | None = None,
) -> httpx.Response:
    """`call()` until it answers below 500 (and not 429); GatewayUnavailable after `retries`."""
    base_delay = BASE_DELAY_SECONDS if base_delay is None else base_delay
    for attempt in range(retries + 1):
        try:
            response = call()
        except httpx.TransportError as error:
            log.warning("%s: %s (attempt %d)", what, type(error).__name__, attempt + 1)
        else:
            if response.status_code < 500 and response.status_code != 429:
                return response
            log.warning("%s: HTTP %d (attempt %d)", what, response.status_code, attempt + 1)
        if attempt < retries:
            sleep(base_delay * 2**attempt)
    raise GatewayUnavailable("The payment provider is unavailable; try again later.")
