"""What the public storefront shows, as typed display rows (no Reflex here): one card per plan."""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale import routes
from ezscale.services.catalogue.storefront import list_public_plans


@dataclass(frozen=True, slots=True)
class PlanCard:
    """A plan's card in the storefront catalogue."""

    code: str
    name: str
    description: str
    price: str
    kind: str
    trial: str  # "14-day free trial, then $6.00/mo; card required", or ""
    href: str  # the order page; a workspace type: the workspaces page with it chosen
    action: str  # "Order", or "Launch" for a workspace type


def plan_cards(session: Session, *, currency: str | None = None) -> list[PlanCard]:
    """The active plans, in catalogue order, priced in `currency` (see `list_public_plans`).
    Workspaces are started (and billed by the hour) on the workspaces page, with the chosen type
    selected there."""
    return [
        PlanCard(
            code=p.code,
            name=p.name,
            description=p.description,
            price=p.price_label,
            kind=p.kind_label,
            trial=p.trial,
            href=routes.workspaces_path(p.code) if p.hourly else routes.order_path(p.code),
            action="Launch" if p.hourly else "Order",
        )
        for p in list_public_plans(session, currency=currency)
    ]
