"""domain verification

Revision ID: c0500
Revises: c0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

revision: str = "c0500"
down_revision: str | None = "c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenant_domains") as batch_op:
        batch_op.add_column(
            sa.Column(
                "verification_status",
                sa.Enum(
                    "pending", "verified", "failed", name="verificationstatus", native_enum=False, length=32
                ),
                nullable=False,
                server_default="pending",
            )
        )
        batch_op.add_column(
            sa.Column(
                "verification_token",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "verification_error",
                sqlmodel.sql.sqltypes.AutoString(length=300),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("last_checked_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True)
        )
    # Domains that existed before verification (platform subdomains, the house domain) are trusted.
    op.execute("UPDATE tenant_domains SET verification_status = 'verified'")
    with op.batch_alter_table("tenant_domains") as batch_op:
        batch_op.alter_column("verification_status", server_default=None)
        batch_op.alter_column("verification_token", server_default=None)
        batch_op.alter_column("verification_error", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tenant_domains") as batch_op:
        batch_op.drop_column("last_checked_at")
        batch_op.drop_column("verification_error")
        batch_op.drop_column("verification_token")
        batch_op.drop_column("verification_status")
