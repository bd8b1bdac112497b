"""Account credit: a ledger of signed rows per customer and currency; the balance is their sum."""

from sqlalchemy import func
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError
from ezscale.models.billing import BillingProfile
from ezscale.models.tenant import CreditEntry, CreditKind
from ezscale.services.billing import locks
from ezscale.services.billing.profiles import ensure_profile


def lock_customer(session: Session, user_id: int) -> BillingProfile:
    """Row-lock the customer's billing profile: serialises balance changes (on SQLite by the
    database's write lock)."""
    locks.write_lock(session)
    query = select(BillingProfile).where(BillingProfile.user_id == user_id).with_for_update()
    profile = session.exec(query).first()
    if profile is None:
        ensure_profile(session, user_id=user_id)
        profile = session.exec(query).one()
    return profile


def lock_and_balances(session: Session, *, user_ids: list[int]) -> dict[tuple[int, str], int] | None:
    """Lock many customers at once and read their balances per currency (billing runs).

    Returns None when a customer has no billing profile yet (then lock them one by one)."""
    locks.write_lock(session)
    locked = session.exec(
        select(col(BillingProfile.user_id))
        .where(col(BillingProfile.user_id).in_(user_ids))
        .order_by(col(BillingProfile.user_id))
        .with_for_update()
    ).all()
    if len(set(locked)) != len(set(user_ids)):
        return None
    rows = session.exec(
        select(col(CreditEntry.user_id), col(CreditEntry.currency), func.sum(col(CreditEntry.amount_minor)))
        .where(col(CreditEntry.user_id).in_(user_ids))
        .group_by(col(CreditEntry.user_id), col(CreditEntry.currency))
    ).all()
    return {(user_id, currency): int(total) for user_id, currency, total in rows}


def balance_minor(session: Session, *, user_id: int, currency: str) -> int:
    """The customer's credit balance in one currency, in minor units (the sum of the ledger)."""
    total = session.exec(
        select(func.coalesce(func.sum(CreditEntry.amount_minor), 0)).where(
            CreditEntry.user_id == user_id, CreditEntry.currency == currency.upper()
        )
    ).one()
    return int(total)


def add_entry(
    session: Session,
    *,
    user_id: int,
    kind: CreditKind,
    amount_minor: int,
    currency: str,
    memo: str,
    reference: str | None = None,
    check_reference: bool = True,
) -> CreditEntry | None:
    """Append a ledger row (not committed). A reference already used returns None (without
    `check_reference`, the unique constraint alone refuses it, at commit)."""
    if not isinstance(amount_minor, int) or amount_minor == 0:
        raise DomainError("A credit entry needs a non-zero whole amount.")
    if (
        reference
        and check_reference
        and session.exec(select(CreditEntry.id).where(CreditEntry.reference == reference)).first()
    ):
        return None
    entry = CreditEntry(
        user_id=user_id,
        kind=kind,
        amount_minor=amount_minor,
        currency=currency.upper(),
        memo=memo[:300],
        reference=reference,
        created_at=clock.now(),
    )
    session.add(entry)
    return entry


def adjust(session: Session, *, user_id: int, amount_minor: int, currency: str, memo: str) -> CreditEntry:
    """Staff adjustment (either sign); the balance may not go below zero."""
    lock_customer(session, user_id)
    if balance_minor(session, user_id=user_id, currency=currency) + amount_minor < 0:
        raise DomainError("That adjustment would make the credit balance negative.")
    entry = add_entry(
        session,
        user_id=user_id,
        kind=CreditKind.ADJUSTMENT,
        amount_minor=amount_minor,
        currency=currency,
        memo=memo,
    )
    assert entry is not None, "a non-zero adjustment always adds an entry"
    session.commit()
    return entry


def history(session: Session, *, user_id: int, limit: int = 200) -> list[CreditEntry]:
    """The customer's credit ledger, newest first."""
    return list(
        session.exec(
            select(CreditEntry)
            .where(col(CreditEntry.user_id) == user_id)
            .order_by(col(CreditEntry.created_at).desc(), col(CreditEntry.id).desc())
            .limit(limit)
        )
    )
