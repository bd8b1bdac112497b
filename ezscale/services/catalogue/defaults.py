"""The default product catalogue every new tenant starts with (prices from the seed plans)."""

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from ezscale.models.tenant import BillingInterval, Plan, ServiceType
from ezscale.money import round_minor


@dataclass(frozen=True)
class PlanSpec:
    """A plan of the default catalogue, created for every new tenant."""

    code: str
    name: str
    service_type: ServiceType
    interval: BillingInterval
    price: Decimal
    description: str = ""


KASM_TYPES = (
    PlanSpec(
        "kasm-dev-basic",
        "Developer Basic",
        ServiceType.KASM,
        BillingInterval.HOURLY,
        Decimal("0.15"),
        "2 vCPU · 4 GB RAM",
    ),
    PlanSpec(
        "kasm-dev-pro",
        "Developer Pro",
        ServiceType.KASM,
        BillingInterval.HOURLY,
        Decimal("0.30"),
        "4 vCPU · 8 GB RAM",
    ),
    PlanSpec(
        "kasm-dev-enterprise",
        "Developer Enterprise",
        ServiceType.KASM,
        BillingInterval.HOURLY,
        Decimal("0.60"),
        "8 vCPU · 16 GB RAM",
    ),
    PlanSpec(
        "kasm-biz-basic",
        "Business Basic",
        ServiceType.KASM,
        BillingInterval.HOURLY,
        Decimal("0.20"),
        "2 vCPU · 4 GB RAM",
    ),
    PlanSpec(
        "kasm-biz-pro",
        "Business Pro",
        ServiceType.KASM,
        BillingInterval.HOURLY,
        Decimal("0.40"),
        "4 vCPU · 8 GB RAM",
    ),
    PlanSpec(
        "kasm-biz-enterprise",
        "Business Enterprise",
        ServiceType.KASM,
        BillingInterval.HOURLY,
        Decimal("0.80"),
        "8 vCPU · 16 GB RAM",
    ),
)

MONTHLY_PLANS = (
    PlanSpec(
        "vps-1",
        "VPS 1",
        ServiceType.VPS,
        BillingInterval.MONTHLY,
        Decimal("6.00"),
        "1 vCPU · 2 GB RAM · 40 GB NVMe",
    ),
    PlanSpec(
        "vps-2",
        "VPS 2",
        ServiceType.VPS,
        BillingInterval.MONTHLY,
        Decimal("15.00"),
        "2 vCPU · 4 GB RAM · 80 GB NVMe",
    ),
    PlanSpec(
        "game-minecraft",
        "Minecraft 4 GB",
        ServiceType.GAME,
        BillingInterval.MONTHLY,
        Decimal("12.00"),
        "4 GB RAM · unlimited slots",
    ),
    PlanSpec(
        "web-starter",
        "Web Hosting Starter",
        ServiceType.WEB_HOSTING,
        BillingInterval.MONTHLY,
        Decimal("4.00"),
        "10 GB SSD · 5 sites",
    ),
    PlanSpec(
        "dedi-e3",
        "Dedicated E-2388G",
        ServiceType.DEDICATED,
        BillingInterval.MONTHLY,
        Decimal("129.00"),
        "8 cores · 64 GB RAM · 2×1 TB NVMe",
    ),
)

DEFAULT_PLANS = MONTHLY_PLANS + KASM_TYPES


def seed_default_plans(session: Session, *, currency: str, wholesale_discount_percent: Decimal | None) -> int:
    """Add the default plans that the tenant does not have yet; returns how many were added.

    For a reseller the wholesale price (or hourly rate) is the retail one less the tier's discount.
    """
    existing = set(session.exec(select(Plan.code)).all())
    added = 0
    for order, spec in enumerate(DEFAULT_PLANS):
        if spec.code in existing:
            continue
        hourly = spec.interval is BillingInterval.HOURLY
        wholesale = wholesale_hourly = None
        if wholesale_discount_percent is not None:
            factor = (Decimal(100) - wholesale_discount_percent) / Decimal(100)
            if hourly:
                wholesale_hourly = (spec.price * factor).quantize(Decimal("0.000001"))
            else:
                wholesale = round_minor(spec.price * factor, currency)
        session.add(
            Plan(
                code=spec.code,
                name=spec.name,
                description=spec.description,
                service_type=spec.service_type,
                billing_interval=spec.interval,
                currency=currency,
                price_minor=0 if hourly else round_minor(spec.price, currency),
                hourly_rate=spec.price if hourly else None,
                wholesale_price_minor=wholesale,
                wholesale_hourly_rate=wholesale_hourly,
                sort_order=order,
            )
        )
        added += 1
    session.commit()
    return added
