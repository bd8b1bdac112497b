"""Analytics tables: daily snapshots (central) and the plan history of subscriptions (tenant).

`AnalyticsDay` holds one row per scope (a tenant, or the whole platform) per currency per day,
so the dashboard reads a few rows instead of scanning invoices. Money columns are minor units;
MRR columns keep 6 decimal places because quarterly and annual plans do not divide evenly.

`PlanChange` remembers each switch of a subscription's plan (the billing service updates
`subscriptions.plan_id` in place), so past MRR and its expansion/contraction can be recomputed.
A mapper listener writes it on every update of `Subscription.plan_id`, whoever makes it.
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ezscale import clock
from ezscale.models.tenant import Subscription, TenantModel
from ezscale.models.types import table_of, utc_field

PLATFORM_SCOPE = "platform"

_MRR = sa.Numeric(20, 6)


def tenant_scope(tenant_id: int) -> str:
    return f"tenant:{tenant_id}"


class AnalyticsDay(SQLModel, table=True):
    __tablename__ = "analytics_days"
    __table_args__ = (sa.UniqueConstraint("scope", "currency", "day", name="uq_analytics_day"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=40)
    tenant_id: int | None = Field(default=None, foreign_key="tenants.id", index=True, ondelete="CASCADE")
    day: date = Field(index=True)
    currency: str = Field(max_length=3)
    # Recurring revenue at the end of the day (minor units, 6 places).
    mrr: Decimal = Field(default=Decimal(0), sa_type=_MRR)
    recurring_mrr: Decimal = Field(default=Decimal(0), sa_type=_MRR)
    usage_mrr: Decimal = Field(default=Decimal(0), sa_type=_MRR)
    # MRR movements during the day, customer by customer.
    new_mrr: Decimal = Field(default=Decimal(0), sa_type=_MRR)
    expansion_mrr: Decimal = Field(default=Decimal(0), sa_type=_MRR)
    contraction_mrr: Decimal = Field(default=Decimal(0), sa_type=_MRR)
    churned_mrr: Decimal = Field(default=Decimal(0), sa_type=_MRR)
    paying_customers: int = 0
    new_customers: int = 0
    churned_customers: int = 0
    registered_customers: int = 0
    signups: int = 0
    first_purchases: int = 0
    revenue_minor: int = 0
    tax_minor: int = 0
    invoices_paid: int = 0
    usage_seconds: int = 0
    usage_revenue_minor: int = 0
    outstanding_minor: int = 0
    overdue_minor: int = 0
    aging_0_30_minor: int = 0
    aging_31_60_minor: int = 0
    aging_61_90_minor: int = 0
    aging_90_plus_minor: int = 0
    # Active subscriptions per plan at the end of the day: {"vps-1": {"name": "VPS 1", "active": 3}}.
    plans: dict = Field(default_factory=dict, sa_type=sa.JSON)
    computed_at: datetime = utc_field()


class PlanChange(TenantModel, table=True):
    __tablename__ = "plan_changes"

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscriptions.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True)
    from_plan_id: int = Field(foreign_key="plans.id")
    to_plan_id: int = Field(foreign_key="plans.id")
    changed_at: datetime = utc_field()


@sa.event.listens_for(Subscription, "after_update")
def _remember_plan_change(_mapper, connection, target: Subscription) -> None:
    history = sa.inspect(target).attrs.plan_id.history
    if not history.deleted or history.deleted[0] == target.plan_id:
        return
    connection.execute(
        sa.insert(table_of(PlanChange)).values(
            subscription_id=target.id,
            user_id=target.user_id,
            from_plan_id=history.deleted[0],
            to_plan_id=target.plan_id,
            changed_at=clock.now(),
        )
    )
