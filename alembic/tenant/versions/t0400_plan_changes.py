"""analytics: plan history of subscriptions

Revision ID: t0400
Revises: t0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ezscale.models.types

revision: str = "t0400"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("from_plan_id", sa.Integer(), nullable=False),
        sa.Column("to_plan_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["from_plan_id"], ["plans.id"]),
        sa.ForeignKeyConstraint(["to_plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_changes") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_changes_subscription_id"), ["subscription_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plan_changes_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("plan_changes")
