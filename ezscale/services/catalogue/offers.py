"""What EZSCALE offers a reseller to sell: every plan on sale in the house catalogue, at the
reseller's wholesale price (the house price less its tier's discount, as for the catalogue it
started with). A reseller adds an offer to its storefront as a plan of its own — name,
description, price at or above wholesale, setup fee, order and visibility — and may add the same
offer more than once (say, a "Starter" and a "Business" VPS from one house plan). New house plans
appear here for every reseller; none is copied into a storefront until its owner adds it."""

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlmodel import Session, col, func, select

from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.central import Tenant, TenantBilling
from ezscale.models.tenant import BillingInterval, Plan
from ezscale.money import Money, minor_digits, rate_text, round_minor
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.catalogue.plans import CODE_RE, PlanForm, commit_new_plan, plan_values
from ezscale.services.kasm.catalogue import size_types
from ezscale.services.resellers.roles import require_owner
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session


@dataclass(frozen=True)
class Offer:
    """A house plan as a reseller may resell it."""

    code: str
    name: str
    description: str
    kind: str
    hourly: bool
    wholesale_minor: int | None
    wholesale_rate: Decimal | None
    currency: str
    added: int  # how many of the reseller's plans resell it

    @property
    def wholesale(self) -> str:
        """The wholesale price as the page shows it."""
        if self.hourly:
            return "—" if self.wholesale_rate is None else rate_text(self.wholesale_rate, self.currency)
        return "—" if self.wholesale_minor is None else Money(self.wholesale_minor, self.currency).format()


def _house_and_discount(tenant: TenantInfo) -> tuple[TenantInfo, Decimal]:
    with central_session() as central:
        house = central.exec(select(Tenant).where(col(Tenant.is_house))).first()
        discount = central.exec(
            select(col(TenantBilling.wholesale_discount_percent)).where(
                col(TenantBilling.tenant_id) == tenant.id
            )
        ).first()
    if house is None:
        raise NotFound("The platform has no house catalogue.")
    return TenantInfo.of(house), Decimal(discount or 0)


def _wholesale(plan: Plan, discount: Decimal) -> tuple[int | None, Decimal | None]:
    factor = (Decimal(100) - discount) / Decimal(100)
    if plan.billing_interval is BillingInterval.HOURLY:
        return None, None if plan.hourly_rate is None else (plan.hourly_rate * factor).quantize(
            Decimal("0.000001")
        )
    return round_minor(
        Decimal(plan.price_minor).scaleb(-minor_digits(plan.currency)) * factor, plan.currency
    ), None


def list_offers(db: Session, *, tenant: TenantInfo) -> list[Offer]:
    """The house plans on sale, with this reseller's wholesale price and how often it added each."""
    house, discount = _house_and_discount(tenant)
    with tenant_session(house) as house_db:
        plans = house_db.exec(
            select(Plan).where(col(Plan.active)).order_by(col(Plan.sort_order), col(Plan.id))
        ).all()
    added = dict(
        db.exec(
            select(func.coalesce(Plan.base_code, Plan.code), func.count()).group_by(
                func.coalesce(Plan.base_code, Plan.code)
            )
        ).all()
    )
    offers = []
    for plan in plans:
        wholesale_minor, wholesale_rate = _wholesale(plan, discount)
        offers.append(
            Offer(
                code=plan.code,
                name=plan.name,
                description=plan.description,
                kind=plan.service_type.value,
                hourly=plan.billing_interval is BillingInterval.HOURLY,
                wholesale_minor=wholesale_minor,
                wholesale_rate=wholesale_rate,
                currency=plan.currency,
                added=added.get(plan.code, 0),
            )
        )
    return offers


def _free_code(db: Session, base: str) -> str:
    taken = set(db.exec(select(Plan.code).where(col(Plan.code).startswith(base))).all())
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)


def add_offer(
    db: Session, *, actor: AuthUser, tenant: TenantInfo, offer_code: str, form: PlanForm, ip: str = ""
) -> Plan:
    """The owner adds a house plan to its storefront as its own plan (audited as plan.create)."""
    require_owner(actor, tenant.id, "add plans")
    house, discount = _house_and_discount(tenant)
    with tenant_session(house) as house_db:
        source = house_db.exec(
            select(Plan).where(Plan.code == (offer_code or "").strip(), col(Plan.active))
        ).first()
    if source is None:
        raise NotFound("No such product in EZSCALE's catalogue.")
    if source.currency != tenant.currency:
        raise DomainError(
            f"{source.name} is sold in {source.currency}; your storefront sells in {tenant.currency}."
        )
    code = (form.code or "").strip().lower() or _free_code(db, source.code)
    if not CODE_RE.match(code):
        raise DomainError("A plan code is 1–60 lowercase letters, digits or hyphens, e.g. vps-4.")
    wholesale_minor, wholesale_rate = _wholesale(source, discount)
    last = db.exec(select(func.max(Plan.sort_order))).one()
    blank = Plan(
        code=code,
        name=source.name,
        description=source.description,
        service_type=source.service_type,
        billing_interval=source.billing_interval,
        currency=tenant.currency,
        wholesale_price_minor=wholesale_minor,
        wholesale_hourly_rate=wholesale_rate,
        base_code=source.code,
        sort_order=(last or 0) + 1,
    )
    values = plan_values(db, replace(form, code=code, price=form.price or ""), blank, full=False)
    for field, value in values.items():
        setattr(blank, field, value)
    plan = commit_new_plan(db, actor=actor, tenant=tenant, plan=blank, ip=ip)
    size_types(db)  # a workspace type gets its house type's size
    return plan
