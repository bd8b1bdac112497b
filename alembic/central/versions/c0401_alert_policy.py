"""admin: alert policy

Revision ID: c0401
Revises: c0400
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "c0401"
down_revision: str | None = "c0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provisioning_failures", sa.Boolean(), nullable=False),
        sa.Column("payment_failures", sa.Boolean(), nullable=False),
        sa.Column("payment_failure_threshold", sa.Integer(), nullable=False),
        sa.Column("billing_run_errors", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("updated_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("alert_policy")
