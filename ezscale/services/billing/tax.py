"""Tax on invoices: a rate per customer country; reverse charge for foreign business customers."""

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from ezscale.errors import DomainError
from ezscale.models.billing import TaxRate
from ezscale.models.tenant import User
from ezscale.money import minor_digits, round_minor
from ezscale.settings import get_settings


@dataclass(frozen=True, slots=True)
class TaxDecision:
    """The tax rate and label that apply to one customer."""

    rate_percent: Decimal
    label: str
    reverse_charge: bool = False


NO_TAX = TaxDecision(Decimal(0), "")


def tax_for(session: Session, user: User) -> TaxDecision:
    """The customer's tax: their country's rate, or reverse charge for a business (tax id) abroad."""
    country = (user.country or "").upper()
    rate = session.exec(select(TaxRate).where(TaxRate.country == country)).first() if country else None
    if rate is None:
        return NO_TAX
    if user.tax_id and country != get_settings().seller_country.upper():
        return TaxDecision(Decimal(0), f"Reverse charge (tax id {user.tax_id})", reverse_charge=True)
    return TaxDecision(rate.rate_percent, f"{rate.label} {rate.rate_percent.normalize():f}%")


def tax_minor(subtotal_minor: int, rate_percent: Decimal, currency: str) -> int:
    """Tax on a subtotal, rounded once (half-up); never negative."""
    if not isinstance(rate_percent, Decimal) or rate_percent < 0:
        raise DomainError("A tax rate must be a non-negative decimal.")
    if subtotal_minor <= 0:
        return 0
    major = Decimal(subtotal_minor).scaleb(-minor_digits(currency))
    return round_minor(major * rate_percent / Decimal(100), currency)


def set_tax_rate(session: Session, *, country: str, rate_percent: Decimal, label: str = "VAT") -> TaxRate:
    """Set (or replace) the tax rate of a country, given as a two-letter code."""
    country = (country or "").upper()
    if len(country) != 2 or not country.isalpha():
        raise DomainError("Country must be a two-letter code.")
    if not isinstance(rate_percent, Decimal) or not Decimal(0) <= rate_percent <= Decimal(100):
        raise DomainError("A tax rate must be between 0 and 100 percent.")
    rate = session.exec(select(TaxRate).where(TaxRate.country == country)).first() or TaxRate(
        country=country, rate_percent=rate_percent
    )
    rate.rate_percent, rate.label = rate_percent, label
    session.add(rate)
    session.commit()
    return rate
