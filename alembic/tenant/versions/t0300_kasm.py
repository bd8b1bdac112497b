"""kasm workspaces: templates, types, Kasm accounts, workspaces, usage sessions, notices

Revision ID: t0300
Revises: t0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import ezscale.models.types
import ezscale.services.core.crypto
from alembic import op

revision: str = "t0300"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kasm_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("image_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("icon", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("cores", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("apps", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("persistent", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "deprecated", name="templatestatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "kasm_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kasm_user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("password", ezscale.services.core.crypto.EncryptedString(), nullable=False),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kasm_user_id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "kasm_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "low_balance", "auto_stopped", "usage_limit", name="noticekind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dismissed_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(op.f("ix_kasm_notices_user_id"), "kasm_notices", ["user_id"], unique=False)
    op.create_table(
        "kasm_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("cores", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id"),
    )
    op.create_table(
        "kasm_workspaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "provisioning",
                "running",
                "stopping",
                "stopped",
                "starting",
                "failed",
                "terminated",
                name="workspacestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kasm_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("kasm_user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("kasm_start_date", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("kasm_expires_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("login_username", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("login_password", ezscale.services.core.crypto.EncryptedString(), nullable=True),
        sa.Column("cores", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provisioned_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_stopped_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("keepalive_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("terminated_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["kasm_templates.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_id"),
    )
    op.create_index(op.f("ix_kasm_workspaces_changed_at"), "kasm_workspaces", ["changed_at"], unique=False)
    op.create_index(op.f("ix_kasm_workspaces_kasm_id"), "kasm_workspaces", ["kasm_id"], unique=False)
    op.create_index(op.f("ix_kasm_workspaces_status"), "kasm_workspaces", ["status"], unique=False)
    op.create_index(op.f("ix_kasm_workspaces_user_id"), "kasm_workspaces", ["user_id"], unique=False)
    op.create_table(
        "kasm_usage_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kasm_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kasm_start_date", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("session_started_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", ezscale.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rate", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("billable_seconds", sa.Integer(), nullable=True),
        sa.Column("cost_minor", sa.Integer(), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["kasm_workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kasm_id", "kasm_start_date", "segment"),
    )
    op.create_index(
        op.f("ix_kasm_usage_sessions_started_at"), "kasm_usage_sessions", ["started_at"], unique=False
    )
    op.create_index(op.f("ix_kasm_usage_sessions_user_id"), "kasm_usage_sessions", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_kasm_usage_sessions_workspace_id"), "kasm_usage_sessions", ["workspace_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_kasm_usage_sessions_workspace_id"), table_name="kasm_usage_sessions")
    op.drop_index(op.f("ix_kasm_usage_sessions_user_id"), table_name="kasm_usage_sessions")
    op.drop_index(op.f("ix_kasm_usage_sessions_started_at"), table_name="kasm_usage_sessions")
    op.drop_table("kasm_usage_sessions")
    op.drop_index(op.f("ix_kasm_workspaces_user_id"), table_name="kasm_workspaces")
    op.drop_index(op.f("ix_kasm_workspaces_status"), table_name="kasm_workspaces")
    op.drop_index(op.f("ix_kasm_workspaces_kasm_id"), table_name="kasm_workspaces")
    op.drop_index(op.f("ix_kasm_workspaces_changed_at"), table_name="kasm_workspaces")
    op.drop_table("kasm_workspaces")
    op.drop_table("kasm_types")
    op.drop_index(op.f("ix_kasm_notices_user_id"), table_name="kasm_notices")
    op.drop_table("kasm_notices")
    op.drop_table("kasm_accounts")
    op.drop_table("kasm_templates")
