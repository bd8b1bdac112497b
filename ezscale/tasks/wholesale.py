"""Monthly wholesale billing of resellers (checked daily: each reseller has its own cycle day),
then the daily collection pass: notices, the card on the due date, retries, suspension."""

from ezscale import clock
from ezscale.services.resellers.wholesale import run_wholesale_billing
from ezscale.services.resellers.wholesale_dunning import collect
from ezscale.settings import get_settings
from ezscale.tasks.app import celery_app


@celery_app.task(name="ezscale.tasks.wholesale.bill_resellers")
def bill_resellers() -> dict:
    """Idempotent: a reseller already billed for its latest period is skipped, and every notice,
    card attempt and suspension of the collection pass happens once (claimed under row locks)."""
    today = clock.now().date()
    report = run_wholesale_billing(on=today, max_workers=get_settings().wholesale_workers)
    collected = collect(on=today)
    return {
        "created": report.created,
        "failed": report.failed,
        "charged": collected.charged,
        "suspended": collected.suspended,
    }
