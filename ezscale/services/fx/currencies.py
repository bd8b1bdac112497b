"""A tenant's currencies (base, enabled, rounding rule) and each customer's currency."""

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.fx import CurrencySettings, RoundingRule
from ezscale.models.tenant import Invoice, Plan, User
from ezscale.money import round_minor
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_change
from ezscale.services.resellers.roles import is_owner
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings


@dataclass(frozen=True, slots=True)
class Currencies:
    """The tenant's currency settings, detached from the session."""

    base: str
    enabled: tuple[str, ...]
    rounding: RoundingRule


def _codes(text: str) -> tuple[str, ...]:
    codes = (code.strip().upper() for code in text.replace(",", " ").split())
    return tuple(dict.fromkeys(code for code in codes if code))


def tenant_currencies(session: Session) -> Currencies:
    """The tenant's settings; without a settings row, its plans' currency alone, rounded to the
    minor unit (the behaviour before multi-currency)."""
    row = session.exec(select(CurrencySettings)).first()
    if row is not None:
        return Currencies(base=row.base_currency, enabled=_codes(row.enabled), rounding=row.rounding)
    base = (
        session.exec(select(Plan.currency).order_by(col(Plan.id))).first() or get_settings().default_currency
    )
    return Currencies(base=base.upper(), enabled=(base.upper(),), rounding=RoundingRule.MINOR)


def update_currencies(
    session: Session, *, actor: AuthUser, tenant: TenantInfo, enabled: str, rounding: str, ip: str = ""
) -> Currencies:
    """Set the enabled currencies ("USD EUR GBP JPY"; the base is always among them) and the
    rounding rule (a platform admin, or the tenant's reseller owner). A currency customers
    already use cannot be disabled. Committed, audited."""
    own_reseller = is_owner(actor, tenant.id)
    if not (actor.is_admin or own_reseller):
        raise DomainError("Only a platform admin or the reseller's owner can change currencies.")
    current = tenant_currencies(session)
    codes = _codes(enabled)
    bad = [code for code in codes if len(code) != 3 or not code.isalpha()]
    if bad:
        raise DomainError(f"“{bad[0]}” is not a currency code.")
    try:
        rule = RoundingRule(rounding)
    except ValueError:
        raise DomainError("Choose a rounding rule.") from None
    codes = (current.base, *(code for code in codes if code != current.base))
    in_use = {
        c for c in session.exec(select(User.currency).where(col(User.currency).is_not(None)).distinct()) if c
    }
    dropped = sorted(in_use - set(codes))
    if dropped:
        raise DomainError(f"Customers use {', '.join(dropped)}; it cannot be disabled.")
    row = session.exec(select(CurrencySettings)).first() or CurrencySettings(
        base_currency=current.base, enabled="", updated_at=clock.now()
    )
    row.enabled, row.rounding, row.updated_at = " ".join(codes), rule, clock.now()
    session.add(row)
    session.commit()
    after = tenant_currencies(session)
    target = f"tenant:{tenant.slug}"
    record_change(actor=actor, action="currencies.update", target=target, before=current, after=after, ip=ip)
    return after


def customer_currency(session: Session, user: User) -> str:
    """The currency the customer is invoiced in."""
    return (user.currency or tenant_currencies(session).base).upper()


def has_invoices(session: Session, *, user_id: int) -> bool:
    """Whether the customer has any invoice (then their currency is fixed)."""
    return session.exec(select(Invoice.id).where(Invoice.user_id == user_id).limit(1)).first() is not None


def choose_currency(session: Session, *, user_id: int, currency: str) -> str:
    """Set the customer's currency to one of the tenant's enabled currencies, unless they have
    invoices already (then only the same currency is accepted). Not committed."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such customer.")
    code = (currency or "").strip().upper()
    settings = tenant_currencies(session)
    if code not in settings.enabled:
        raise DomainError(f"Choose one of: {', '.join(settings.enabled)}.")
    if code == customer_currency(session, user) and user.currency is not None:
        return code
    if has_invoices(session, user_id=user_id) and code != customer_currency(session, user):
        raise DomainError("Your currency is fixed once you have invoices.")
    user.currency = code
    session.add(user)
    return code


def signup_currency(session: Session, currency: str) -> str | None:
    """The currency chosen at sign-up: one of the tenant's enabled currencies (None when blank:
    the customer is invoiced in the tenant's base currency)."""
    code = (currency or "").strip().upper()
    if not code:
        return None
    settings = tenant_currencies(session)
    if code not in settings.enabled:
        raise DomainError(f"Choose one of: {', '.join(settings.enabled)}.")
    return code


def visitor_currency(session: Session, requested: str) -> str:
    """The currency a storefront visitor sees prices in: the one they picked when the tenant
    sells in it, else the base currency."""
    settings = tenant_currencies(session)
    code = (requested or "").strip().upper()
    return code if code in settings.enabled else settings.base


def customer_minor(session: Session, *, user_id: int, amount: Decimal) -> int:
    """An amount the customer typed (e.g. a top-up) in minor units of their own currency: "1000"
    is ¥1000 for a yen customer, $1000.00 for a dollar one."""
    if not amount.is_finite():
        raise DomainError("Enter an amount such as 20.00.")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such customer.")
    return round_minor(amount, customer_currency(session, user))
