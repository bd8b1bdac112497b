"""wholesale invoices: due date, card attempts, notices sent

Revision ID: c0700_wholesale
Revises: c0503
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ezscale.models.types

_UTC = ezscale.models.types.UTCDateTime

revision: str = "c0700_wholesale"
down_revision: str | None = "c0503"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wholesale_invoices") as batch_op:
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("attempt_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("issued_mail_at", _UTC(), nullable=True))
        batch_op.add_column(sa.Column("reminder_mail_at", _UTC(), nullable=True))
        batch_op.add_column(sa.Column("overdue_mail_at", _UTC(), nullable=True))
    with op.batch_alter_table("wholesale_invoices") as batch_op:
        batch_op.alter_column("attempt_count", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("wholesale_invoices") as batch_op:
        for column in (
            "overdue_mail_at",
            "reminder_mail_at",
            "issued_mail_at",
            "next_attempt_on",
            "attempt_count",
            "due_on",
        ):
            batch_op.drop_column(column)
