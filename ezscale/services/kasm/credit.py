"""What a customer can spend on workspaces: account credit, uninvoiced usage, a saved card."""

from datetime import datetime

from sqlmodel import Session, col, func, select

from ezscale.models.billing import PaymentMethod, UsageCharge
from ezscale.models.kasm import KasmUsageSession
from ezscale.services.billing.credits import balance_minor
from ezscale.services.kasm.usage import segment_cost


def has_saved_payment_method(db: Session, *, user_id: int) -> bool:
    """Whether the customer has a card on file (the billing domain's saved payment methods)."""
    query = select(PaymentMethod.id).where(
        PaymentMethod.user_id == user_id, col(PaymentMethod.removed_at).is_(None)
    )
    return db.exec(query).first() is not None


def available_credit_minor(db: Session, *, user_id: int, currency: str, now: datetime) -> int:
    """Account credit left once uninvoiced usage and running sessions' cost so far are paid."""
    uninvoiced = db.exec(
        select(func.coalesce(func.sum(UsageCharge.amount_minor), 0)).where(
            UsageCharge.user_id == user_id,
            UsageCharge.currency == currency,
            col(UsageCharge.invoice_id).is_(None),
        )
    ).one()
    running = 0
    for row in db.exec(
        select(KasmUsageSession).where(
            KasmUsageSession.user_id == user_id, col(KasmUsageSession.stopped_at).is_(None)
        )
    ):
        running += segment_cost(
            session_start=row.session_started_at,
            segment_start=row.started_at,
            segment_end=now,
            final=True,
            rate=row.rate,
            currency=row.currency,
        ).amount_minor
    return balance_minor(db, user_id=user_id, currency=currency) - int(uninvoiced) - running
