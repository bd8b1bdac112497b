"""pay-gateways: each tenant's gateway accounts (credentials encrypted at rest)

Revision ID: c0700_pay_gateways
Revises: c0600_sec_auth
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types
import ezscale.services.core.crypto

revision: str = "c0700_pay_gateways"
down_revision: str | None = "c0600_sec_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "gateway_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("gateway", S(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("api_base", S(length=300), nullable=False),
        sa.Column("credentials", ezscale.services.core.crypto.EncryptedString(), nullable=False),
        sa.Column("updated_at", ezscale.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "gateway", name="uq_gateway_accounts_tenant_gateway"),
    )
    op.create_index("ix_gateway_accounts_tenant_id", "gateway_accounts", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_gateway_accounts_tenant_id", table_name="gateway_accounts")
    op.drop_table("gateway_accounts")
