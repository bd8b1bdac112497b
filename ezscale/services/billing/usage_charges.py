"""Usage charges: metered amounts recorded by other domains (Kasm hours), invoiced monthly.

Recording is idempotent on `source_key`, so a usage job that runs twice records once.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError
from ezscale.models.billing import UsageCharge
from ezscale.models.tenant import User


def record_usage_charge(
    session: Session,
    *,
    user_id: int,
    service_id: int | None,
    description: str,
    quantity: Decimal,
    unit_rate: Decimal,
    amount_minor: int,
    currency: str,
    period_start: datetime,
    period_end: datetime,
    source_key: str,
) -> UsageCharge:
    """Record one charge (committed); the same `source_key` again returns the existing row."""
    existing = session.exec(select(UsageCharge).where(UsageCharge.source_key == source_key)).first()
    if existing is not None:
        return existing
    if not isinstance(quantity, Decimal) or not isinstance(unit_rate, Decimal):
        raise DomainError("Usage quantity and rate must be exact decimals.")
    if not isinstance(amount_minor, int) or amount_minor < 0:
        raise DomainError("A usage charge amount must be a non-negative whole number of minor units.")
    if period_start.tzinfo is None or period_end.tzinfo is None or period_end < period_start:
        raise DomainError("A usage period needs aware datetimes with its end after its start.")
    if not source_key or len(source_key) > 120:
        raise DomainError("A usage charge needs a source key of at most 120 characters.")
    if session.get(User, user_id) is None:
        raise DomainError(f"No customer with id {user_id}.")
    charge = UsageCharge(
        user_id=user_id,
        service_id=service_id,
        description=description[:300],
        quantity=quantity,
        unit_rate=unit_rate,
        amount_minor=amount_minor,
        currency=currency.upper(),
        period_start=period_start,
        period_end=period_end,
        source_key=source_key,
        created_at=clock.now(),
    )
    session.add(charge)
    try:
        session.commit()
    except IntegrityError:
        # Recorded concurrently by another worker: theirs wins.
        session.rollback()
        return session.exec(select(UsageCharge).where(UsageCharge.source_key == source_key)).one()
    return charge


@dataclass(frozen=True, slots=True)
class UsageLine:
    """An invoice line for a usage charge: `quantity × unit_minor` is exactly `amount_minor`."""

    description: str
    quantity: Decimal
    unit_minor: int
    amount_minor: int


def invoice_line(charge: UsageCharge) -> UsageLine:
    """One charge as one invoice line. Hours × an hourly rate is rarely a whole number of minor
    units, so the line is 1 × the rounded amount, with the exact hours and rate in its text."""
    hours, rate = f"{charge.quantity.normalize():f}", f"{charge.unit_rate.normalize():f}"
    return UsageLine(
        description=f"{charge.description}: {hours} h × {rate} {charge.currency}/h",
        quantity=Decimal(1),
        unit_minor=charge.amount_minor,
        amount_minor=charge.amount_minor,
    )


def uninvoiced_charges(session: Session, *, user_id: int) -> list[UsageCharge]:
    """Charges of a customer not yet on any invoice, oldest first (the "current usage" view)."""
    return list(
        session.exec(
            select(UsageCharge)
            .where(col(UsageCharge.user_id) == user_id, col(UsageCharge.invoice_id).is_(None))
            .order_by(col(UsageCharge.period_end), col(UsageCharge.id))
        )
    )
