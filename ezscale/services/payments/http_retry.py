"""One retry loop for the gateways' httpx clients: the same request (with its idempotency
header) is sent again after 429, 5xx and lost connections; what still fails is
`GatewayUnavailable`.

A 429 was refused before it ran, so it is always resent, after the wait its `Retry-After` asks
for (else the back-off). A 5xx or a lost connection may come after the request ran, so it is
resent only when that is `safe`: a read, or a write carrying an idempotency key the gateway
answers with the first result (PayPal-Request-Id); otherwise the caller finds out what happened.
"""

import logging
import random
import time
from collections.abc import Callable, Mapping

import httpx

from ezscale.services.payments.gateway import GatewayUnavailable

log = logging.getLogger(__name__)

RETRIES = 3
RATE_LIMIT_WAIT_SECONDS = 60.0  # 429s are resent while their waits add up to less than this
BASE_DELAY_SECONDS = 0.2
_jitter = random.Random()


def rate_limit_wait(asked: float) -> float:
    """The wait after a 429: what it asked for plus up to half again, so that clients refused
    together do not all come back at the same instant (and collide again)."""
    return asked * (1 + _jitter.random() / 2)


def retry_after_header(headers: Mapping[str, str] | None, default: float) -> float:
    """The wait a 429 asks for (`Retry-After`, seconds, decimals allowed; else `default`), at
    most a minute."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        seconds = default
    return min(max(seconds, 0.0), 60.0)


def send(
    call: Callable[[], httpx.Response],
    *,
    what: str,
    retries: int = RETRIES,
    sleep: Callable[[float], None] = time.sleep,
    base_delay: float | None = None,
    safe: bool = True,
) -> httpx.Response:
    """`call()` until it answers below 500 (and not 429); GatewayUnavailable once the retries
    are used up (or at the first 5xx or lost connection of a call that is not `safe`)."""
    base_delay = BASE_DELAY_SECONDS if base_delay is None else base_delay
    failures = limited = 0
    waited = 0.0
    while True:
        try:
            response = call()
        except httpx.TransportError as error:
            log.warning("%s: %s (failure %d)", what, type(error).__name__, failures + 1)
        else:
            if response.status_code == 429 and waited < RATE_LIMIT_WAIT_SECONDS:
                limited += 1
                asked = retry_after_header(response.headers, base_delay * 2 ** min(limited - 1, 5))
                delay = rate_limit_wait(asked)
                log.info("%s: HTTP 429, retry in %.3fs", what, delay)
                sleep(delay)
                waited += max(delay, 0.001)
                continue
            if response.status_code < 500 and response.status_code != 429:
                return response
            log.warning("%s: HTTP %d (failure %d)", what, response.status_code, failures + 1)
        if not safe or failures >= retries:
            break
        sleep(base_delay * 2**failures)
        failures += 1
    raise GatewayUnavailable("The payment provider is unavailable; try again later.")
