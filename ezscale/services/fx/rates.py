"""Stored reference rates: saving a published day once, the rates in force on a day, and
cross rates between any two currencies (via EUR, as the ECB publishes them)."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.fx import FxRate
from ezscale.services.fx.feed import Published

# Cross rates are kept to 10 decimal places: exact enough for any price, and the same number
# is recorded on the invoice and used to compute it.
CROSS_PLACES = Decimal(1).scaleb(-10)


class RatesUnavailable(DomainError):
    """No reference rate is stored for a currency that needs one."""


@dataclass(frozen=True, slots=True)
class RateTable:
    """The rates in force on `rate_date` (None: none stored yet): units per 1 EUR."""

    rate_date: date | None
    per_eur: dict[str, Decimal]

    def cross(self, base: str, target: str) -> Decimal:
        """Units of `target` per 1 unit of `base`; RatesUnavailable if either has no rate."""
        base, target = base.upper(), target.upper()
        if base == target:
            return Decimal(1)
        missing = [code for code in (base, target) if code != "EUR" and code not in self.per_eur]
        if missing:
            raise RatesUnavailable(f"No exchange rate from {base} to {target} is available yet.")
        value = self._eur(target) / self._eur(base)
        return value.quantize(CROSS_PLACES, rounding=ROUND_HALF_UP).normalize()

    def _eur(self, code: str) -> Decimal:
        return Decimal(1) if code == "EUR" else self.per_eur[code]


def store(central: Session, published: Published) -> int:
    """Save a published day; rows already stored for that date and currency are kept (a second
    run, or a concurrent one, adds nothing). Returns how many rows were added. Committed."""
    dialect = central.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = clock.now()
    rows = [
        {"rate_date": published.rate_date, "currency": code, "rate_per_eur": text, "fetched_at": now}
        for code, text in sorted(published.rates.items())
    ]
    statement = (
        insert(FxRate)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["rate_date", "currency"])
        .returning(col(FxRate.id))
    )
    added = len(central.execute(statement).all())
    central.commit()
    return added


def table_on(central: Session, day: date | None = None) -> RateTable:
    """The latest published rates on or before `day` (default today)."""
    day = day or clock.now().date()
    latest = central.exec(select(func.max(FxRate.rate_date)).where(FxRate.rate_date <= day)).one()
    if latest is None:
        return RateTable(rate_date=None, per_eur={})
    rows = central.exec(select(FxRate.currency, FxRate.rate_per_eur).where(FxRate.rate_date == latest))
    return RateTable(rate_date=latest, per_eur={code: Decimal(text) for code, text in rows})


def current_table() -> RateTable:
    """Today's rates, read from the central database (for work running on a tenant session)."""
    with central_session() as central:
        return table_on(central)


def stored_dates(central: Session, *, limit: int = 10) -> list[date]:
    """The latest dates with stored rates, newest first."""
    return list(
        central.exec(
            select(col(FxRate.rate_date)).distinct().order_by(col(FxRate.rate_date).desc()).limit(limit)
        )
    )
