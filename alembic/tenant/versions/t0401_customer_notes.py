"""admin: staff notes on customers

Revision ID: t0401
Revises: t0400
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "t0401"
down_revision: str | None = "t0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("author_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer_notes") as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_notes_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("customer_notes")
