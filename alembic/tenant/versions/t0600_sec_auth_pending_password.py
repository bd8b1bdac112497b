"""a sign-up's pending password travels with its verification link (sec-auth)

Revision ID: t0600_sec_auth
Revises: t0100
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "t0600_sec_auth"
down_revision: str | None = "t0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_tokens") as batch_op:
        batch_op.add_column(
            sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False, server_default="")
        )
    with op.batch_alter_table("auth_tokens") as batch_op:
        batch_op.alter_column("password_hash", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("auth_tokens") as batch_op:
        batch_op.drop_column("password_hash")
