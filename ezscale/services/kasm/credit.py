"""What a customer can spend on workspaces: account credit, uninvoiced usage, a saved card."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from ezscale.models.billing import PaymentMethod, UsageCharge
from ezscale.models.kasm import KasmUsageSession
from ezscale.services.billing.credits import balance_minor
from ezscale.services.billing.proration import next_anchor
from ezscale.services.kasm.usage import segment_cost


def has_saved_payment_method(db: Session, *, user_id: int) -> bool:
    """Whether the customer has a card on file (the billing domain's saved payment methods)."""
    query = select(PaymentMethod.id).where(
        PaymentMethod.user_id == user_id, col(PaymentMethod.removed_at).is_(None)
    )
    return db.exec(query).first() is not None


@dataclass(frozen=True, slots=True)
class AccruedUsage:
    """Workspace usage not invoiced yet: closed sessions' charges and running sessions so far."""

    uninvoiced_minor: int
    running_minor: int
    running: bool
    first_end: datetime | None

    @property
    def total_minor(self) -> int:
        """Everything the next usage invoices will bill, as of now."""
        return self.uninvoiced_minor + self.running_minor


def accrued_usage(db: Session, *, user_id: int, currency: str, now: datetime) -> AccruedUsage:
    """The customer's uninvoiced usage in `currency`, running sessions costed up to `now`."""
    uninvoiced, first_end = db.exec(
        select(func.coalesce(func.sum(UsageCharge.amount_minor), 0), func.min(UsageCharge.period_end)).where(
            UsageCharge.user_id == user_id,
            UsageCharge.currency == currency,
            col(UsageCharge.invoice_id).is_(None),
        )
    ).one()
    running, any_running = 0, False
    for row in db.exec(
        select(KasmUsageSession).where(
            KasmUsageSession.user_id == user_id,
            KasmUsageSession.currency == currency,
            col(KasmUsageSession.stopped_at).is_(None),
        )
    ):
        any_running = True
        running += segment_cost(
            session_start=row.session_started_at,
            segment_start=row.started_at,
            segment_end=now,
            final=True,
            rate=row.rate,
            currency=row.currency,
        ).amount_minor
        first_end = now if first_end is None else min(first_end, now)
    return AccruedUsage(int(uninvoiced), running, any_running, first_end)


def usage_invoice_date(first_end: datetime, *, anchor_day: int) -> datetime:
    """When usage that ended at `first_end` is invoiced: the first billing date at or after it
    (the usage run invoices charges that ended by the customer's latest billing date)."""
    return next_anchor(first_end - timedelta(microseconds=1), anchor_day)


def available_credit_minor(db: Session, *, user_id: int, currency: str, now: datetime) -> int:
    """Account credit left once uninvoiced usage and running sessions' cost so far are paid."""
    accrued = accrued_usage(db, user_id=user_id, currency=currency, now=now)
    return balance_minor(db, user_id=user_id, currency=currency) - accrued.total_minor
