"""A tenant's plan catalogue, as platform admins and reseller owners edit it.

A platform admin edits the house tenant's plans in full (and creates them) and sets what a
reseller pays EZSCALE for each plan. A reseller's owner edits the name, description, retail price,
setup fee, trial days, order and availability of the plans EZSCALE sells them, never below the wholesale
price (`check_floor`, the one pricing rule). Every change is checked first (DomainError, nothing
written), committed, then audited. A new price only reaches renewals from now on: issued
invoices keep their own lines.
"""

import re
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from ezscale.errors import DomainError, NotFound
from ezscale.models.tenant import BillingInterval, Plan, ServiceType
from ezscale.models.types import row_id
from ezscale.money import RATE_PLACES, Money, minor_digits, parse_price, rate_text, round_minor
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit, record_change
from ezscale.services.fx.currencies import tenant_currencies
from ezscale.services.fx.pricing import hourly_pricing, plan_pricing, set_fixed_price
from ezscale.services.fx.rates import RatesUnavailable, current_table
from ezscale.services.resellers.roles import is_owner
from ezscale.services.tenancy.tenants import TenantInfo

MAX_TRIAL_DAYS = 90
CODE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
# Prices and rates stay below a million (the hourly-rate column holds 6 + 6 digits).
MAX_PRICE = Decimal(1_000_000)
_RATE_STEP = Decimal(1).scaleb(-RATE_PLACES)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, kw_only=True)
class PlanForm:
    """A plan as typed into a form. On update, a field left as None keeps its value."""

    name: str | None = None
    code: str | None = None
    description: str | None = None
    service_type: str | None = None
    interval: str | None = None
    price: str | None = None  # hourly plans: the rate per hour, up to 6 places
    setup_fee: str | None = None  # blank is no setup fee
    active: bool | None = None
    sort_order: str | None = None  # blank keeps the order (new plans go last)
    trial_days: str | None = None  # days of free trial, 0–90 (blank is none)


@dataclass(frozen=True)
class PlanRow:
    """A plan as form text: prices in major units ("15.00"), hourly rates as typed ("0.15")."""

    id: int
    code: str
    name: str
    description: str
    service_type: str
    interval: str
    currency: str
    price: str
    setup_fee: str
    wholesale: str  # "" for a plan the tenant does not buy wholesale
    active: bool
    sort_order: int
    trial_days: int = 0


def _rate_text(rate: Decimal | None) -> str:
    return "" if rate is None else f"{rate.normalize():f}"


def _minor_text(minor: int | None, currency: str) -> str:
    return "" if minor is None else f"{Money(minor, currency).amount:f}"


def plan_row(plan: Plan) -> PlanRow:
    """Format a plan for the admin catalogue list."""
    hourly = plan.billing_interval is BillingInterval.HOURLY
    return PlanRow(
        id=row_id(plan),
        code=plan.code,
        name=plan.name,
        description=plan.description,
        service_type=plan.service_type.value,
        interval=plan.billing_interval.value,
        currency=plan.currency,
        price=_rate_text(plan.hourly_rate) if hourly else _minor_text(plan.price_minor, plan.currency),
        setup_fee=_minor_text(plan.setup_fee_minor, plan.currency),
        wholesale=_rate_text(plan.wholesale_hourly_rate)
        if hourly
        else _minor_text(plan.wholesale_price_minor, plan.currency),
        active=plan.active,
        sort_order=plan.sort_order,
        trial_days=plan.trial_days,
    )


def list_plans(session: Session) -> list[PlanRow]:
    """Every plan of this tenant, active or not, in storefront order."""
    return [plan_row(p) for p in session.exec(select(Plan).order_by(col(Plan.sort_order), col(Plan.id)))]


def _amount(text: str, *, places: int) -> Decimal:
    value = parse_price(text, places=places)
    if value >= MAX_PRICE:
        raise DomainError(f"A price must be below {MAX_PRICE:,}.")
    return value


def parse_plan_price(text: str, *, interval: BillingInterval, currency: str) -> tuple[int, Decimal | None]:
    """(price_minor, hourly_rate) of a typed price: an hourly plan takes a rate of up to 6 places
    (price_minor 0), any other plan an amount in the currency's minor units (no rate)."""
    if interval is BillingInterval.HOURLY:
        return 0, _amount(text, places=RATE_PLACES).quantize(_RATE_STEP)
    return round_minor(_amount(text, places=minor_digits(currency)), currency), None


def check_floor(
    plan: Plan,
    *,
    price_minor: int,
    rate: Decimal | None,
    wholesale_minor: int | None,
    wholesale_rate: Decimal | None,
) -> None:
    """The pricing rule: a reseller never sells a plan below what EZSCALE charges them for it."""
    if plan.billing_interval is BillingInterval.HOURLY:
        if rate is not None and wholesale_rate is not None and rate < wholesale_rate:
            raise DomainError(
                f"{plan.name}: {rate_text(rate, plan.currency)} is below the wholesale rate "
                f"{rate_text(wholesale_rate, plan.currency)}."
            )
    elif wholesale_minor is not None and price_minor < wholesale_minor:
        raise DomainError(
            f"{plan.name}: {Money(price_minor, plan.currency).format()} is below the wholesale price "
            f"{Money(wholesale_minor, plan.currency).format()}."
        )


def apply_price(plan: Plan, text: str) -> None:
    """Set the customer price (hourly plans: the rate) on `plan`; refused below wholesale."""
    price_minor, rate = parse_plan_price(text, interval=plan.billing_interval, currency=plan.currency)
    check_floor(
        plan,
        price_minor=price_minor,
        rate=rate,
        wholesale_minor=plan.wholesale_price_minor,
        wholesale_rate=plan.wholesale_hourly_rate,
    )
    plan.price_minor, plan.hourly_rate = price_minor, rate


def _choice(kind: type[E], text: str | None, current: E, label: str) -> E:
    if text is None:
        return current
    try:
        return kind(text.strip().lower())
    except ValueError:
        raise DomainError(f"Unknown {label} “{text}”; use one of {', '.join(kind)}.") from None


def _text(value: str | None, current: str, *, label: str, limit: int) -> str:
    text = current if value is None else value.strip()
    if len(text) > limit:
        raise DomainError(f"The {label} is longer than {limit} characters.")
    return text


def _sort_order(text: str | None, current: int) -> int:
    text = (text or "").strip()
    if not text:
        return current
    if not (text.isascii() and text.isdigit()) or int(text) > 100_000:
        raise DomainError("The sort order must be a whole number from 0 to 100000.")
    return int(text)


def _trial_days(text: str | None, current: int, interval: BillingInterval) -> int:
    days = current
    if text is not None:
        text = text.strip()
        if text and (not (text.isascii() and text.isdigit()) or int(text) > MAX_TRIAL_DAYS):
            raise DomainError(f"Trial days must be a whole number from 0 to {MAX_TRIAL_DAYS} (0: no trial).")
        days = int(text or 0)
    if days and interval is BillingInterval.HOURLY:
        raise DomainError("Hourly plans are paid by use and have no free trial: set trial days to 0.")
    return days


def _full_editor(actor: AuthUser, tenant: TenantInfo) -> bool:
    """True for a platform admin on the house catalogue, False for a reseller's owner on their
    own; anyone else is refused."""
    if actor.is_admin and tenant.is_house:
        return True
    if is_owner(actor, tenant.id) and not tenant.is_house:
        return False
    raise DomainError("Only a platform admin or the reseller's owner can edit these plans.")


def plan_values(session: Session, form: PlanForm, plan: Plan, *, full: bool) -> dict[str, Any]:
    """The plan's new column values from the form, all checked before anything is set."""
    name = _text(form.name, plan.name, label="name", limit=120)
    if not name:
        raise DomainError("A plan needs a name.")
    description = _text(form.description, plan.description, label="description", limit=500)
    code = plan.code if form.code is None else form.code.strip().lower()
    service_type = _choice(ServiceType, form.service_type, plan.service_type, "service type")
    interval = _choice(BillingInterval, form.interval, plan.billing_interval, "interval")
    if not full and (code, service_type, interval) != (plan.code, plan.service_type, plan.billing_interval):
        raise DomainError(
            "A reseller cannot change a plan's code, service type or billing interval: "
            "they come from EZSCALE's wholesale catalogue."
        )
    if not CODE_RE.match(code):
        raise DomainError("A plan code is 1–60 lowercase letters, digits or hyphens, e.g. vps-4.")
    if code != plan.code and session.exec(select(Plan.id).where(Plan.code == code)).first() is not None:
        raise DomainError(f"A plan with code “{code}” already exists.")
    if form.price is not None:
        price_minor, rate = parse_plan_price(form.price, interval=interval, currency=plan.currency)
    elif interval is plan.billing_interval:
        price_minor, rate = plan.price_minor, plan.hourly_rate
    else:
        raise DomainError("Give the price for the new billing interval.")
    check_floor(
        plan,
        price_minor=price_minor,
        rate=rate,
        wholesale_minor=plan.wholesale_price_minor,
        wholesale_rate=plan.wholesale_hourly_rate,
    )
    setup_fee = plan.setup_fee_minor
    if form.setup_fee is not None:
        setup_fee = 0
        if form.setup_fee.strip():
            try:
                fee = _amount(form.setup_fee, places=minor_digits(plan.currency))
            except DomainError as error:
                raise DomainError(f"Setup fee: {error}") from None
            setup_fee = round_minor(fee, plan.currency)
    return {
        "name": name,
        "description": description,
        "code": code,
        "service_type": service_type,
        "billing_interval": interval,
        "price_minor": price_minor,
        "hourly_rate": rate,
        "setup_fee_minor": setup_fee,
        "active": plan.active if form.active is None else form.active,
        "sort_order": _sort_order(form.sort_order, plan.sort_order),
        "trial_days": _trial_days(form.trial_days, plan.trial_days, interval),
    }


def _commit(session: Session, plan: Plan) -> None:
    session.add(plan)
    try:
        session.commit()
    except IntegrityError:  # a plan with this code was added meanwhile
        session.rollback()
        raise DomainError(f"A plan with code “{plan.code}” already exists.") from None
    session.refresh(plan)


def _audit(
    actor: AuthUser, action: str, tenant: TenantInfo, before: PlanRow | None, after: PlanRow, ip: str
) -> None:
    target = f"tenant:{tenant.slug}/plan:{after.code}"
    record_change(actor=actor, action=action, target=target, before=before, after=after, ip=ip)


def create_plan(
    session: Session, *, actor: AuthUser, tenant: TenantInfo, form: PlanForm, ip: str = ""
) -> Plan:
    """A new plan of the house catalogue, in the tenant's currency (platform admins only)."""
    if not _full_editor(actor, tenant):
        raise DomainError(
            "Resellers cannot create plans: their products come from EZSCALE's wholesale catalogue."
        )
    required = ("name", "code", "service_type", "interval", "price")
    missing: dict[str, Any] = {f: "" for f in required if getattr(form, f) is None}
    form = replace(form, **missing)
    last = session.exec(select(func.max(Plan.sort_order))).one()
    blank = Plan(code="", name="", currency=tenant.currency, sort_order=(last or 0) + 1)
    plan = Plan(currency=tenant.currency, **plan_values(session, form, blank, full=True))
    return commit_new_plan(session, actor=actor, tenant=tenant, plan=plan, ip=ip)


def commit_new_plan(
    session: Session, *, actor: AuthUser, tenant: TenantInfo, plan: Plan, ip: str = ""
) -> Plan:
    """Store a new plan (its values already checked) and audit it as plan.create."""
    _commit(session, plan)
    _audit(actor, "plan.create", tenant, None, plan_row(plan), ip)
    return plan


def _plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("No such plan.")
    return plan


def update_plan(
    session: Session, *, actor: AuthUser, tenant: TenantInfo, plan_id: int, form: PlanForm, ip: str = ""
) -> Plan:
    """Change a plan: everything for a platform admin on the house catalogue; name, description,
    price, setup fee, trial days, availability and order for a reseller's owner."""
    full = _full_editor(actor, tenant)
    plan = _plan(session, plan_id)
    before = plan_row(plan)
    values = plan_values(session, form, plan, full=full)
    for field, value in values.items():
        setattr(plan, field, value)
    _commit(session, plan)
    after = plan_row(plan)
    if after != before:
        _audit(actor, "plan.update", tenant, before, after, ip)
    return plan


def set_wholesale_price(
    session: Session, *, actor: AuthUser, tenant: TenantInfo, plan_id: int, price: str, ip: str = ""
) -> Plan:
    """What EZSCALE charges a reseller for a plan (hourly plans: per hour); platform admins only,
    and never above the reseller's own price."""
    if not actor.is_admin:
        raise DomainError("Only a platform admin sets wholesale prices.")
    if tenant.is_house:
        raise DomainError("The house tenant buys nothing wholesale.")
    plan = _plan(session, plan_id)
    before = plan_row(plan)
    wholesale_minor, wholesale_rate = parse_plan_price(
        price, interval=plan.billing_interval, currency=plan.currency
    )
    check_floor(
        plan,
        price_minor=plan.price_minor,
        rate=plan.hourly_rate,
        wholesale_minor=wholesale_minor,
        wholesale_rate=wholesale_rate,
    )
    if plan.billing_interval is BillingInterval.HOURLY:
        plan.wholesale_hourly_rate = wholesale_rate
    else:
        plan.wholesale_price_minor = wholesale_minor
    _commit(session, plan)
    after = plan_row(plan)
    if after != before:
        _audit(actor, "plan.wholesale", tenant, before, after, ip)
    return plan


@dataclass(frozen=True, slots=True)
class CurrencyPrice:
    """A plan's price in one of the tenant's other currencies, as the editor shows it."""

    currency: str
    price: str
    fixed: bool


def currency_prices(session: Session, *, plan_id: int) -> list[CurrencyPrice]:
    """The plan's price in each of the tenant's other currencies: fixed, or converted from the
    base price at today's rate ("no rate yet" when none is stored)."""
    plan = _plan(session, plan_id)
    rows = []
    table = current_table()
    for code in tenant_currencies(session).enabled:
        if code == plan.currency.upper():
            continue
        try:
            if plan.billing_interval is BillingInterval.HOURLY:
                hourly = hourly_pricing(session, plan, currency=code, table=table)
                rows.append(CurrencyPrice(code, rate_text(hourly.rate, code), not hourly.converted))
                continue
            price = plan_pricing(session, plan, currency=code, table=table)
        except RatesUnavailable:
            rows.append(CurrencyPrice(code, "no rate yet", False))
            continue
        rows.append(CurrencyPrice(code, Money(price.price_minor, code).format(), not price.converted))
    return rows


def _check_currency_floor(
    plan: Plan, *, currency: str, price_minor: int, hourly_rate: Decimal | None = None
) -> None:
    """The pricing rule in another currency: a reseller's fixed price (hourly plans: rate) there
    is at least the wholesale price converted at today's rate (rounded up to the minor unit, or
    to the rate's 6 places)."""
    hourly = plan.billing_interval is BillingInterval.HOURLY
    wholesale = plan.wholesale_hourly_rate if hourly else plan.wholesale_price_minor
    if wholesale is None or currency == plan.currency.upper() or (hourly and hourly_rate is None):
        return
    try:
        rate = current_table().cross(plan.currency, currency)
    except RatesUnavailable:
        raise DomainError(
            f"No exchange rate for {currency} is known yet, so the price cannot be checked against "
            "the wholesale price; try again later."
        ) from None
    if hourly and hourly_rate is not None and plan.wholesale_hourly_rate is not None:
        floor_rate = (plan.wholesale_hourly_rate * rate).quantize(_RATE_STEP, rounding=ROUND_CEILING)
        if hourly_rate < floor_rate:
            raise DomainError(
                f"{plan.name}: {rate_text(hourly_rate, currency)} is below the wholesale rate "
                f"{rate_text(plan.wholesale_hourly_rate, plan.currency)} "
                f"({rate_text(floor_rate, currency)} at today's rate)."
            )
        return
    if plan.wholesale_price_minor is None:
        return
    exact = Decimal(plan.wholesale_price_minor).scaleb(-minor_digits(plan.currency)) * rate
    floor = int(exact.scaleb(minor_digits(currency)).to_integral_value(rounding=ROUND_CEILING))
    if price_minor < floor:
        raise DomainError(
            f"{plan.name}: {Money(price_minor, currency).format()} is below the wholesale price "
            f"{Money(plan.wholesale_price_minor, plan.currency).format()} "
            f"({Money(floor, currency).format()} at today's rate)."
        )


def set_currency_price(
    session: Session,
    *,
    actor: AuthUser,
    tenant: TenantInfo,
    plan_id: int,
    currency: str,
    price: str,
    setup_fee: str = "",
    ip: str = "",
) -> None:
    """Fix the plan's price in another of the tenant's currencies (a blank price removes it: the
    base price is converted at the day's rate again). Committed, audited."""
    _full_editor(actor, tenant)
    plan = _plan(session, plan_id)
    code = (currency or "").strip().upper()
    if not code:
        raise DomainError("Choose a currency.")
    minor = setup = rate = None
    hourly = plan.billing_interval is BillingInterval.HOURLY
    if (price or "").strip() and hourly:  # an hourly rate per hour, to 6 places
        minor, setup, rate = 0, 0, _amount(price, places=RATE_PLACES).quantize(_RATE_STEP)
    elif (price or "").strip():
        minor = round_minor(parse_price(price, places=minor_digits(code)), code)
        setup = round_minor(parse_price(setup_fee or "0", places=minor_digits(code)), code)
    set_fixed_price(
        session, plan, currency=code, price_minor=minor, setup_fee_minor=setup or 0, hourly_rate=rate
    )
    if minor is not None:
        try:
            _check_currency_floor(plan, currency=code, price_minor=minor, hourly_rate=rate)
        except DomainError:
            session.rollback()
            raise
    session.commit()
    record_audit(
        actor=actor,
        action="plan.currency_price",
        target=f"tenant:{tenant.slug}/plan:{plan.code}",
        after={"currency": code, "price_minor": minor, "setup_fee_minor": setup}
        | ({"hourly_rate": rate} if hourly else {}),
        ip=ip,
    )
