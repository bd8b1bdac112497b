"""refund_requests: a refund form's one-time key, so the same form sent twice is one refund

Revision ID: leftovers_refund_requests
Revises: t0900_connect_stripe_account
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "leftovers_refund_requests"
down_revision: str | None = "t0900_connect_stripe_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refund_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("refund_requests") as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_requests_payment_id"), ["payment_id"], unique=False)


def downgrade() -> None:
    op.drop_table("refund_requests")
