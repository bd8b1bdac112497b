"""What a visitor sees in a tenant's storefront."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale.errors import DomainError
from ezscale.models.tenant import BillingInterval, Plan
from ezscale.money import Money, rate_text
from ezscale.services.fx.pricing import HourlyPricing, PlanPricing, hourly_pricing, plan_pricing
from ezscale.services.fx.rates import current_table

_INTERVAL_SUFFIX = {
    BillingInterval.MONTHLY: "/mo",
    BillingInterval.QUARTERLY: "/quarter",
    BillingInterval.ANNUAL: "/yr",
}
_KIND_LABELS = {
    "kasm": "Cloud workspace",
    "vps": "VPS",
    "game": "Game server",
    "dedicated": "Dedicated server",
    "web_hosting": "Web hosting",
}


@dataclass(frozen=True)
class PublicPlan:
    """A plan as the public storefront shows it."""

    code: str
    name: str
    description: str
    price_label: str
    kind_label: str
    hourly: bool
    trial: str = ""  # "14-day free trial, then $6.00/mo; card required", or ""


def price_label(plan: Plan, price: PlanPricing | HourlyPricing | None = None) -> str:
    """The plan's price as the storefront shows it, e.g. "$6.00/mo" or "$0.15/hour"; `price`
    is the plan's price (or hourly rate) in another currency (else the plan's own)."""
    if isinstance(price, HourlyPricing):
        return rate_text(price.rate, price.currency)
    if plan.billing_interval is BillingInterval.HOURLY and plan.hourly_rate is not None:
        return rate_text(plan.hourly_rate, plan.currency)
    money = Money(plan.price_minor, plan.currency)
    if price is not None:
        money = Money(price.price_minor, price.currency)
    return money.format() + _INTERVAL_SUFFIX[plan.billing_interval]


def kind_label(plan: Plan) -> str:
    """The plan's kind as customers read it ("VPS", "Cloud workspace" ...)."""
    return _KIND_LABELS.get(plan.service_type.value, plan.service_type.value)


def list_public_plans(session: Session, *, currency: str | None = None) -> list[PublicPlan]:
    """The active plans for the public storefront, in catalogue order; with `currency` (one of
    the tenant's), recurring prices in it (fixed, or converted at today's rate)."""
    plans = session.exec(
        select(Plan).where(col(Plan.active)).order_by(col(Plan.sort_order), col(Plan.id))
    ).all()
    table = current_table() if currency else None

    def price(plan: Plan) -> PlanPricing | HourlyPricing | None:
        if not currency:
            return None
        try:
            if plan.billing_interval is BillingInterval.HOURLY:
                return hourly_pricing(session, plan, currency=currency, table=table)
            return plan_pricing(session, plan, currency=currency, table=table)
        except DomainError:  # no rate known yet (or not sold in it): the plan's own price
            return None

    rows = []
    for p in plans:
        label = price_label(p, price(p))
        rows.append(
            PublicPlan(
                code=p.code,
                name=p.name,
                description=p.description,
                price_label=label,
                kind_label=kind_label(p),
                hourly=p.billing_interval is BillingInterval.HOURLY,
                trial=trial_label(p, label),
            )
        )
    return rows


def trial_label(plan: Plan, recurring: str) -> str:
    """How the storefront and the order page state a plan's free trial: "14-day free trial,
    then €9.00/mo; card required" ("" for a plan without one). `recurring` is its price label."""
    if plan.trial_days <= 0 or plan.billing_interval is BillingInterval.HOURLY:
        return ""
    return f"{plan.trial_days}-day free trial, then {recurring}; card required"
