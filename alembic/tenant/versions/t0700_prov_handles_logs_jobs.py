"""prov: service handles on panels, provisioning logs and jobs

Revision ID: t0700_prov
Revises: t0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ezscale.models.types
import ezscale.services.core.crypto

revision: str = "t0700_prov"
down_revision: str | None = "t0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
UTC = ezscale.models.types.UTCDateTime


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    op.create_table(
        "service_handles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("panel_id", sa.Integer(), nullable=False),
        sa.Column("module", S(length=30), nullable=False),
        sa.Column("external_id", S(length=100), nullable=True),
        sa.Column("customer_external_id", S(length=100), nullable=True),
        sa.Column("hostname", S(length=253), nullable=False),
        sa.Column("ips", S(length=1000), nullable=False),
        sa.Column("ports", S(length=500), nullable=False),
        sa.Column("username", S(length=120), nullable=False),
        sa.Column("password", ezscale.services.core.crypto.EncryptedString(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_id"),
    )
    op.create_table(
        "provisioning_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("step", S(length=40), nullable=False),
        sa.Column("outcome", _enum("logoutcome", "ok", "retry", "failed"), nullable=False),
        sa.Column("message", S(length=500), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_provisioning_logs_service_at", "provisioning_logs", ["service_id", "at"])
    op.create_table(
        "provisioning_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            _enum("jobaction", "provision", "suspend", "unsuspend", "terminate", "change_package"),
            nullable=False,
        ),
        sa.Column("key", S(length=120), nullable=False),
        sa.Column("status", _enum("jobstatus", "queued", "running", "done", "failed"), nullable=False),
        sa.Column("phase", S(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("next_run_at", UTC(timezone=True), nullable=False),
        sa.Column("claimed_until", UTC(timezone=True), nullable=True),
        sa.Column("target_plan_code", S(length=60), nullable=False),
        sa.Column("last_error", S(length=500), nullable=False),
        sa.Column("refunded", S(length=10), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_provisioning_jobs_service_id", "provisioning_jobs", ["service_id"])
    op.create_index("ix_provisioning_jobs_status", "provisioning_jobs", ["status"])
    op.create_index("ix_provisioning_jobs_next_run_at", "provisioning_jobs", ["next_run_at"])


def downgrade() -> None:
    op.drop_table("provisioning_jobs")
    op.drop_index("ix_provisioning_logs_service_at", table_name="provisioning_logs")
    op.drop_table("provisioning_logs")
    op.drop_table("service_handles")
