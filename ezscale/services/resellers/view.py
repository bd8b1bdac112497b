"""What the platform admin's Resellers page shows: every tenant with its domains, status, trial
and wholesale billing day, as rows of text ready for the page."""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale.models.types import row_id
from ezscale.services.resellers.wholesale import billing_cycle_days
from ezscale.services.tenancy.tenants import list_tenants


@dataclass(frozen=True, slots=True)
class ResellerRow:
    """A tenant (a reseller, or the house site) as the admin's list shows it."""

    slug: str
    name: str
    status: str
    house: bool
    domains: str
    trial_ends: str
    reason: str  # why it is suspended ("unpaid": wholesale invoices overdue)
    cycle_day: str  # the day of the month its wholesale invoice is made ("" for the house)


def reseller_rows(central: Session) -> list[ResellerRow]:
    """Every tenant, in id order."""
    cycle_days = billing_cycle_days(central)
    return [
        ResellerRow(
            slug=t.slug,
            name=t.name,
            status=t.status.value,
            house=t.is_house,
            domains=", ".join(domains),
            trial_ends=f"{t.trial_ends_at:%d %b %Y}" if t.trial_ends_at else "",
            reason=t.suspension_reason,
            cycle_day=str(cycle_days.get(row_id(t), "")),
        )
        for t, domains in list_tenants(central)
    ]
