"""tenant domains: the TLS check's last result

Revision ID: c0701_tls
Revises: c0500
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types

_STR = sqlmodel.sql.sqltypes.AutoString
_UTC = ezscale.models.types.UTCDateTime

revision: str = "c0701_tls"
down_revision: str | None = "c0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenant_domains") as batch_op:
        batch_op.add_column(sa.Column("ssl_error", _STR(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("ssl_checked_at", _UTC(), nullable=True))
    with op.batch_alter_table("tenant_domains") as batch_op:
        batch_op.alter_column("ssl_error", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tenant_domains") as batch_op:
        batch_op.drop_column("ssl_checked_at")
        batch_op.drop_column("ssl_error")
