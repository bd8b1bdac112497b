"""session hand-offs, known devices, rate-limit hits (sec-auth)

Revision ID: c0600_sec_auth
Revises: c0503
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ezscale.models.types
import ezscale.services.core.crypto
from alembic import op

revision: str = "c0600_sec_auth"
down_revision: str | None = "c0503"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_UTC = ezscale.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "session_handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _STR(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("purpose", _STR(length=20), nullable=False),
        sa.Column("email", _STR(length=254), nullable=False),
        sa.Column("session_token", ezscale.services.core.crypto.EncryptedString(), nullable=False),
        sa.Column("next_path", _STR(length=300), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("expires_at", _UTC(timezone=True), nullable=False),
        sa.Column("used_at", _UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("session_handoffs") as batch_op:
        batch_op.create_index(batch_op.f("ix_session_handoffs_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_session_handoffs_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "known_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", _STR(length=64), nullable=False),
        sa.Column("email", _STR(length=254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("last_used_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("known_devices") as batch_op:
        batch_op.create_index(batch_op.f("ix_known_devices_last_used_at"), ["last_used_at"], unique=False)
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _STR(length=300), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rate_limit_hits") as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_limit_hits_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_rate_limit_hits_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("rate_limit_hits")
    op.drop_table("known_devices")
    op.drop_table("session_handoffs")
