"""prov: provisioning panels, plan mappings and settings

Revision ID: c0700_prov
Revises: c0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types
import ezscale.services.core.crypto

revision: str = "c0700_prov"
down_revision: str | None = "c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_UTC = ezscale.models.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "provisioning_panels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module", _STR(length=30), nullable=False),
        sa.Column("label", _STR(length=120), nullable=False),
        sa.Column("base_url", _STR(length=500), nullable=False),
        sa.Column("credentials", ezscale.services.core.crypto.EncryptedString(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_test_at", _UTC(timezone=True), nullable=True),
        sa.Column("last_test_ok", sa.Boolean(), nullable=True),
        sa.Column("last_test_message", _STR(length=300), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("updated_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label"),
    )
    op.create_index("ix_provisioning_panels_module", "provisioning_panels", ["module"])
    op.create_table(
        "provisioning_plan_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_code", _STR(length=60), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("package", _STR(length=200), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("updated_at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["panel_id"], ["provisioning_panels.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_code"),
    )
    op.create_index("ix_provisioning_plan_mappings_panel_id", "provisioning_plan_mappings", ["panel_id"])
    op.create_table(
        "provisioning_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "failure_refund",
            sa.Enum("credit", "card", name="failurerefund", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("updated_by", _STR(length=254), nullable=False),
        sa.Column("updated_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("provisioning_settings")
    op.drop_index("ix_provisioning_plan_mappings_panel_id", table_name="provisioning_plan_mappings")
    op.drop_table("provisioning_plan_mappings")
    op.drop_index("ix_provisioning_panels_module", table_name="provisioning_panels")
    op.drop_table("provisioning_panels")
