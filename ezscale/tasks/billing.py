"""Billing beats: the daily cycle and the usage cycle, fanned out one task per tenant.

The tasks are thin: the runs in services/billing/runs.py are idempotent, so a task that runs
twice, or dies halfway and is redelivered (acks_late), bills everything once; a copy delivered
while the run still holds the tenant's lease returns {"skipped": True} at once.
"""

from collections.abc import Callable

from sqlmodel import Session

from ezscale.db import central_session
from ezscale.services.billing import monitoring, notify, runs
from ezscale.services.billing.runs import RunReport
from ezscale.services.core import mail
from ezscale.services.tenancy.tenants import TenantInfo, active_tenants
from ezscale.tasks.app import celery_app
from ezscale.tasks.tenant_task import enqueue_for_tenant, tenant_task


def _billable_tenant_ids() -> list[int]:
    with central_session() as session:
        return [tenant.id for tenant in active_tenants(session)]


def _mail(tenant: TenantInfo, report: RunReport) -> dict:
    """After the run committed: invoice emails (from the outbox, including any a killed run left)
    and dunning notices."""
    sent = mail.dispatch_pending(tenant) + notify.send(tenant, report.dunning.notices)
    return {
        "invoices": report.invoices,
        "paid": report.charged,
        "unpaid": report.failed,
        "suspended": report.dunning.suspended,
        "mails": sent,
    }


def _run(session: Session, tenant: TenantInfo, name: str, run: Callable[..., RunReport]) -> dict:
    """Run, alert the admins on a crash (the task still fails, so it is retried) and on failed
    payments over their threshold, then mail customers."""
    try:
        report = run(session, tenant=tenant)
    except Exception as error:
        monitoring.alert_on_run_error(tenant=tenant, run=name, error=error)
        raise
    if report.skipped:  # another delivery of this run holds the lease; it alerts and mails
        return {"skipped": True}
    monitoring.alert_on_payment_failures(session, tenant=tenant)
    return _mail(tenant, report)


@tenant_task(name="ezscale.tasks.billing.daily_billing")
def daily_billing(session: Session, tenant: TenantInfo) -> dict:
    """Renewals, first charges, retries, reminders, suspensions for one tenant."""
    return _run(session, tenant, "daily", runs.daily_run)


@tenant_task(name="ezscale.tasks.billing.usage_billing")
def usage_billing(session: Session, tenant: TenantInfo) -> dict:
    """Usage invoices for the customers whose billing date it is, and their charges."""
    return _run(session, tenant, "usage", runs.usage_run)


@celery_app.task(name="ezscale.tasks.billing.daily_all")
def daily_all() -> int:
    """Beat fan-out: queue the daily billing run for every billable tenant; returns how many."""
    ids = _billable_tenant_ids()
    for tenant_id in ids:
        enqueue_for_tenant(daily_billing, tenant_id)
    return len(ids)


@celery_app.task(name="ezscale.tasks.billing.usage_all")
def usage_all() -> int:
    """Beat fan-out: queue the usage billing run for every billable tenant; returns how many."""
    ids = _billable_tenant_ids()
    for tenant_id in ids:
        enqueue_for_tenant(usage_billing, tenant_id)
    return len(ids)
