"""What the service page's plan change shows, as typed display rows (no Reflex here): the plans
the service can move to, and the prorated quote of one."""

from dataclasses import dataclass

from ezscale.money import Money
from ezscale.services.provisioning.plan_changes import PlanChangeQuote, PlanOption


@dataclass(frozen=True, slots=True)
class PlanChoiceRow:
    """A plan in the plan-change picker."""

    id: int
    label: str  # "VPS 2 · $15.00/mo"


@dataclass(frozen=True, slots=True)
class PlanChangeRow:
    """The quote of moving to `plan_id` now, as the service page states it."""

    plan_id: int
    to_plan: str
    credit: str  # "Unused time on VPS 1: −$3.00"
    charge: str  # "Remaining time on VPS 2: $7.50"
    outcome: str  # "To pay now: $4.50 plus tax", or "Added to your account credit: $1.50"


def plan_choice_rows(options: list[PlanOption]) -> list[PlanChoiceRow]:
    """The plans the service can move to, labelled with their price."""
    return [PlanChoiceRow(o.id, f"{o.name} · {o.price}") for o in options]


def plan_change_row(quote: PlanChangeQuote) -> PlanChangeRow:
    """Format a plan-change quote for the service page."""

    def fmt(minor: int) -> str:
        return Money(minor, quote.currency).format()

    if quote.net_minor >= 0:
        outcome = f"To pay now: {fmt(quote.net_minor)} plus tax"
    else:
        outcome = f"Added to your account credit: {fmt(-quote.net_minor)}"
    return PlanChangeRow(
        plan_id=quote.plan_id,
        to_plan=quote.to_plan,
        credit=f"Unused time on {quote.from_plan}: −{fmt(quote.credit_minor)}",
        charge=f"Remaining time on {quote.to_plan}: {fmt(quote.charge_minor)}",
        outcome=outcome,
    )
