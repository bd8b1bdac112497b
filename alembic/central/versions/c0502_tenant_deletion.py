"""tenant deletion grace period

Revision ID: c0502
Revises: c0501
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ezscale.models.types

revision: str = "c0502"
down_revision: str | None = "c0501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(
            sa.Column("delete_after", ezscale.models.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("delete_after")
