"""Monthly wholesale billing of resellers (checked daily: each reseller has its own cycle day)."""

from ezscale import clock
from ezscale.db import central_session
from ezscale.services.resellers.wholesale import run_wholesale_billing
from ezscale.services.resellers.wholesale_payments import charge_open_invoices
from ezscale.settings import get_settings
from ezscale.tasks.app import celery_app


@celery_app.task(name="ezscale.tasks.wholesale.bill_resellers")
def bill_resellers() -> dict:
    """Idempotent: a reseller already billed for its latest period is skipped, and an invoice
    already paid is not charged again (charges carry an idempotency key per invoice)."""
    report = run_wholesale_billing(on=clock.now().date(), max_workers=get_settings().wholesale_workers)
    with central_session() as central:
        charged = charge_open_invoices(central)
    return {"created": report.created, "failed": report.failed, "charged": charged}
