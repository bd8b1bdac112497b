"""The daily exchange rates refresh from the ECB feed."""

from ezscale.db import central_session
from ezscale.services.fx.refresh import refresh_rates as refresh
from ezscale.settings import get_settings
from ezscale.tasks.app import celery_app


@celery_app.task(name="ezscale.tasks.fx.refresh_rates")
def refresh_rates() -> dict:
    """Fetch and store today's rates. Idempotent: one row per date and currency, however often
    it runs; a bad feed stores nothing and alerts."""
    with central_session() as central:
        result = refresh(central, url=get_settings().ecb_rates_url)
    return {
        "rate_date": result.rate_date.isoformat() if result.rate_date else None,
        "added": result.added,
        "error": result.error,
    }
