"""What the catalogue pages show, as typed rows of text: the resellers an admin can set wholesale
prices for, plans' prices in the tenant's other currencies (with a draft fixed price), a
reseller's plans with their margins (editable in the row) and the house products it can add."""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale.services.catalogue.offers import list_offers
from ezscale.services.catalogue.plans import currency_prices, list_plans
from ezscale.services.catalogue.retail_prices import pricing
from ezscale.services.tenancy.tenants import TenantInfo, list_tenants


@dataclass(frozen=True, slots=True)
class ResellerOption:
    """A reseller in the admin's wholesale-price picker."""

    slug: str
    name: str


def reseller_options(central: Session) -> list[ResellerOption]:
    """Every tenant but the house, in id order."""
    return [ResellerOption(t.slug, t.name) for t, _ in list_tenants(central) if not t.is_house]


@dataclass(frozen=True, slots=True)
class CurrencyPriceRow:
    """A plan's price in one of the tenant's other currencies, and the fixed price being typed."""

    key: str  # "<plan id>:<currency>"
    plan: str
    code: str
    currency: str
    price: str
    fixed: bool  # a fixed price (else converted from the base price)
    wholesale: str  # "15.00 USD" what the tenant pays for the plan ("—": nothing)
    draft: str = ""


def currency_price_rows(session: Session) -> list[CurrencyPriceRow]:
    """One row per plan and other enabled currency, plans in storefront order."""
    return [
        CurrencyPriceRow(
            key=f"{p.id}:{c.currency}",
            plan=p.name,
            code=p.code,
            currency=c.currency,
            price=c.price,
            fixed=c.fixed,
            wholesale=f"{p.wholesale} {p.currency}" if p.wholesale else "—",
        )
        for p in list_plans(session)
        for c in currency_prices(session, plan_id=p.id)
    ]


@dataclass(frozen=True, slots=True)
class ResellerPlanRow:
    """A reseller's plan as its editable row shows it: form text, and the figures beside it."""

    id: int
    code: str
    name: str
    description: str
    price: str
    setup_fee: str
    trial_days: str
    sort_order: str
    active: bool
    retail: str
    wholesale: str
    margin: str
    unit: str  # "per hour" or "per period": what the price is for


def reseller_plan_rows(session: Session) -> list[ResellerPlanRow]:
    """The tenant's plans in storefront order, each with its retail, wholesale and margin."""
    labels = {r.plan_id: r for r in pricing(session)}
    return [
        ResellerPlanRow(
            id=p.id,
            code=p.code,
            name=p.name,
            description=p.description,
            price=p.price,
            setup_fee=p.setup_fee,
            trial_days=str(p.trial_days),
            sort_order=str(p.sort_order),
            active=p.active,
            retail=labels[p.id].retail,
            wholesale=labels[p.id].wholesale,
            margin=labels[p.id].margin,
            unit="per hour" if labels[p.id].hourly else "per period",
        )
        for p in list_plans(session)
    ]


@dataclass(frozen=True, slots=True)
class OfferRow:
    """A house product a reseller can add as a plan of its own."""

    code: str
    label: str  # "VPS 4 — wholesale 12.00 USD (you sell it 2×)"


def offer_rows(session: Session, *, tenant: TenantInfo) -> list[OfferRow]:
    """The house plans on sale, as `list_offers` orders them."""
    return [
        OfferRow(
            o.code,
            f"{o.name} — wholesale {o.wholesale}" + (f" (you sell it {o.added}×)" if o.added else ""),
        )
        for o in list_offers(session, tenant=tenant)
    ]
