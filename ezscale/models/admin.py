"""Admin area tables: staff notes on a customer (tenant databases), the alert policy (central)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ezscale.models.tenant import TenantModel
from ezscale.models.types import utc_field


class CustomerNote(TenantModel, table=True):
    __tablename__ = "customer_notes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    author_email: str = Field(max_length=254)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = utc_field()


class AlertPolicy(SQLModel, table=True):
    """Central: which events page the on-call admins (one row; defaults until saved)."""

    __tablename__ = "alert_policy"

    id: int | None = Field(default=None, primary_key=True)
    provisioning_failures: bool = Field(default=True)
    payment_failures: bool = Field(default=True)
    # Alert on payment failures once this many failed in the last 24 hours (per tenant).
    payment_failure_threshold: int = Field(default=3)
    billing_run_errors: bool = Field(default=True)
    updated_by: str = Field(default="", max_length=254)
    updated_at: datetime = utc_field()
