"""The daily rates refresh: fetch the ECB feed, check it, store the day once; a bad feed
changes nothing and raises an alert saying why."""

import logging
from dataclasses import dataclass
from datetime import date

import httpx
from sqlmodel import Session

from ezscale import clock
from ezscale.services.core.alerts import send_alert
from ezscale.services.fx import feed, rates

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did: the feed's date and rows added, or the error that stopped it."""

    rate_date: date | None
    added: int
    error: str = ""


def refresh_rates(central: Session, *, url: str, client: httpx.Client | None = None) -> RefreshResult:
    """Fetch and store today's reference rates. Safe to run twice or concurrently: a date and
    currency already stored is kept as it is."""
    try:
        published = feed.parse(feed.fetch(url, client=client))
        feed.check_current(published, today=clock.now().date())
    except feed.FeedError as error:
        log.error("exchange rates not updated: %s (feed %s)", error, url)
        send_alert(
            title="Exchange rates not updated",
            message=f"{error} The rates already stored are kept.",
            fields={"feed": url},
        )
        return RefreshResult(rate_date=None, added=0, error=str(error))
    added = rates.store(central, published)
    log.info("exchange rates of %s: %d new rows", published.rate_date, added)
    return RefreshResult(rate_date=published.rate_date, added=added)
