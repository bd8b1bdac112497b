"""The customer's billing timeline (read by the admin area); keyed steps happen once."""

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.billing import BillingEvent


def record(
    session: Session,
    *,
    user_id: int,
    kind: str,
    message: str,
    invoice_id: int | None = None,
    key: str | None = None,
) -> BillingEvent | None:
    """Add a timeline row (not committed). With a key already used, returns None: step done."""
    if key is not None and session.exec(select(BillingEvent.id).where(BillingEvent.key == key)).first():
        return None
    event = BillingEvent(
        user_id=user_id,
        invoice_id=invoice_id,
        kind=kind,
        message=message[:300],
        key=key,
        created_at=clock.now(),
    )
    session.add(event)
    return event


def has_step(session: Session, key: str) -> bool:
    """Whether a timeline step with this idempotency key was already recorded."""
    return session.exec(select(BillingEvent.id).where(BillingEvent.key == key)).first() is not None


def list_timeline(session: Session, *, user_id: int, limit: int = 200) -> list[BillingEvent]:
    """A customer's billing events, newest first."""
    return list(
        session.exec(
            select(BillingEvent)
            .where(col(BillingEvent.user_id) == user_id)
            .order_by(col(BillingEvent.created_at).desc(), col(BillingEvent.id).desc())
            .limit(limit)
        )
    )
