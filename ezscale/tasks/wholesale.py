"""Monthly wholesale billing of resellers (checked daily: each reseller has its own cycle day)."""

from ezscale import clock
from ezscale.services.wholesale import run_wholesale_billing
from ezscale.settings import get_settings
from ezscale.tasks.app import celery_app


@celery_app.task(name="ezscale.tasks.wholesale.bill_resellers")
def bill_resellers() -> dict:
    """Idempotent: a reseller already billed for its latest period is skipped."""
    report = run_wholesale_billing(on=clock.now().date(), max_workers=get_settings().wholesale_workers)
    return {"created": report.created, "existing": len(report.existing), "failed": report.failed}
