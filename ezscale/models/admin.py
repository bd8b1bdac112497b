"""Admin area tables of every tenant database: staff notes on a customer."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from ezscale.models.tenant import TenantModel
from ezscale.models.types import utc_field


class CustomerNote(TenantModel, table=True):
    __tablename__ = "customer_notes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    author_email: str = Field(max_length=254)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = utc_field()
