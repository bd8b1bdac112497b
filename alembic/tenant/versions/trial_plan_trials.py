"""plans.trial_days; subscriptions: the free trial granted (one per customer and plan)

Revision ID: trial_plan_trials
Revises: t0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ezscale.models.types

revision: str = "trial_plan_trials"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch_op:
        batch_op.add_column(sa.Column("trial_days", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.add_column(sa.Column("trial_plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("trial_ends_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key("fk_subscriptions_trial_plan_id", "plans", ["trial_plan_id"], ["id"])
        batch_op.create_unique_constraint("uq_subscriptions_one_trial", ["user_id", "trial_plan_id"])


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_constraint("uq_subscriptions_one_trial", type_="unique")
        batch_op.drop_constraint("fk_subscriptions_trial_plan_id", type_="foreignkey")
        batch_op.drop_column("trial_ends_at")
        batch_op.drop_column("trial_plan_id")
    with op.batch_alter_table("plans") as batch_op:
        batch_op.drop_column("trial_days")
