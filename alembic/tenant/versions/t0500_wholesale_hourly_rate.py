"""wholesale hourly rate of hourly plans

Revision ID: t0500
Revises: t0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t0500"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch_op:
        batch_op.add_column(sa.Column("wholesale_hourly_rate", sa.Numeric(12, 6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch_op:
        batch_op.drop_column("wholesale_hourly_rate")
