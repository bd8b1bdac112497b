"""Alerts from billing: failed payments over the admins' threshold, and runs that crashed."""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from ezscale import clock
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.services.core.alert_policy import AlertCategory, raise_alert
from ezscale.services.tenancy.tenants import TenantInfo


def failed_payments_last_day(session: Session) -> int:
    """Payments that failed in the last 24 hours, for the failed-payment alert threshold."""
    since = clock.now() - timedelta(hours=24)
    return session.exec(
        select(func.count())
        .select_from(Payment)
        .where(Payment.status == PaymentStatus.FAILED, Payment.updated_at >= since)
    ).one()


def alert_on_payment_failures(session: Session, *, tenant: TenantInfo) -> bool:
    """After a billing run: page the admins if the last 24 h of failed payments reach the
    threshold set in the admin area."""
    failures = failed_payments_last_day(session)
    if not failures:
        return False
    return raise_alert(
        AlertCategory.PAYMENT,
        title="Payment failures",
        message=f"{failures} payments of {tenant.name} failed in the last 24 hours.",
        fields={"tenant": tenant.slug, "failures": str(failures)},
        failures=failures,
    )


def alert_on_run_error(*, tenant: TenantInfo, run: str, error: BaseException) -> bool:
    """Alert the admins that a billing run crashed; returns whether an alert was raised."""
    return raise_alert(
        AlertCategory.BILLING_RUN,
        title=f"Billing run failed: {run}",
        message=f"The {run} billing run of {tenant.name} stopped with {error.__class__.__name__}: {error}",
        fields={"tenant": tenant.slug, "run": run},
    )
