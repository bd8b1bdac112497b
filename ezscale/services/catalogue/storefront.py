"""What a visitor sees in a tenant's storefront."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale.models.tenant import BillingInterval, Plan
from ezscale.money import Money, rate_text

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


def price_label(plan: Plan) -> str:
    """The plan's price as the storefront shows it, e.g. "$6.00/mo" or "$0.15/hour"."""
    if plan.billing_interval is BillingInterval.HOURLY and plan.hourly_rate is not None:
        return rate_text(plan.hourly_rate, plan.currency)
    return Money(plan.price_minor, plan.currency).format() + _INTERVAL_SUFFIX[plan.billing_interval]


def kind_label(plan: Plan) -> str:
    """The plan's kind as customers read it ("VPS", "Cloud workspace" ...)."""
    return _KIND_LABELS.get(plan.service_type.value, plan.service_type.value)


def list_public_plans(session: Session) -> list[PublicPlan]:
    """The active plans for the public storefront, in catalogue order."""
    plans = session.exec(
        select(Plan).where(col(Plan.active)).order_by(col(Plan.sort_order), col(Plan.id))
    ).all()
    return [
        PublicPlan(
            code=p.code,
            name=p.name,
            description=p.description,
            price_label=price_label(p),
            kind_label=kind_label(p),
            hourly=p.billing_interval is BillingInterval.HOURLY,
        )
        for p in plans
    ]
