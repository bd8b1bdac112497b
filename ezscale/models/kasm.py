"""Kasm Workspaces tables of every tenant database: catalogue, Kasm users, workspaces, usage.

The six workspace types are the tenant's hourly `Plan` rows (codes `kasm-*`, rate in
`Plan.hourly_rate`); `KasmType` adds their size and category.
"""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from ezscale.models.tenant import TenantModel
from ezscale.models.types import enum_field, utc_field
from ezscale.services.core.crypto import EncryptedString


class TemplateStatus(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"


class KasmTemplate(TenantModel, table=True):
    """A workspace image customers can pick; `persistent` ones are stopped/resumed, not destroyed."""

    __tablename__ = "kasm_templates"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    description: str = Field(default="", max_length=500)
    category: str = Field(default="developer", max_length=20)
    image_id: str = Field(max_length=64)
    icon: str = Field(default="monitor", max_length=60)
    cores: int = Field(default=2)
    memory_mb: int = Field(default=4096)
    apps: str = Field(default="", max_length=500)
    persistent: bool = Field(default=False)
    status: TemplateStatus = enum_field(TemplateStatus, TemplateStatus.ACTIVE)
    sort_order: int = Field(default=0)


class KasmType(TenantModel, table=True):
    """Size and category of a workspace type (an hourly plan)."""

    __tablename__ = "kasm_types"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plans.id", unique=True)
    category: str = Field(max_length=20)
    cores: int
    memory_mb: int


class KasmAccount(TenantModel, table=True):
    """The one Kasm user of a customer; its password is their workspace login."""

    __tablename__ = "kasm_accounts"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    kasm_user_id: str = Field(max_length=64, unique=True)
    username: str = Field(max_length=120)
    password: str = Field(sa_column=sa.Column(EncryptedString(), nullable=False))
    created_at: datetime = utc_field()


class WorkspaceStatus(StrEnum):
    PROVISIONING = "provisioning"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    STARTING = "starting"
    FAILED = "failed"
    TERMINATED = "terminated"


class KasmWorkspace(TenantModel, table=True):
    """One ordered workspace (a `Service` of type kasm) and the Kasm session backing it."""

    __tablename__ = "kasm_workspaces"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="services.id", unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    plan_id: int = Field(foreign_key="plans.id")
    template_id: int = Field(foreign_key="kasm_templates.id")
    status: WorkspaceStatus = enum_field(WorkspaceStatus, WorkspaceStatus.PROVISIONING, index=True)
    status_reason: str = Field(default="", max_length=300)
    kasm_id: str | None = Field(default=None, max_length=64, index=True)
    kasm_user_id: str | None = Field(default=None, max_length=64)
    kasm_start_date: datetime | None = utc_field(nullable=True)
    kasm_expires_at: datetime | None = utc_field(nullable=True)
    login_username: str = Field(default="", max_length=120)
    login_password: str | None = Field(default=None, sa_column=sa.Column(EncryptedString(), nullable=True))
    cores: int
    memory_mb: int
    attempts: int = Field(default=0)
    created_at: datetime = utc_field()
    # Bumped on every visible change: live dashboards poll for rows changed since their last look.
    changed_at: datetime = utc_field(index=True)
    provisioned_at: datetime | None = utc_field(nullable=True)
    last_started_at: datetime | None = utc_field(nullable=True)
    last_stopped_at: datetime | None = utc_field(nullable=True)
    keepalive_at: datetime | None = utc_field(nullable=True)
    terminated_at: datetime | None = utc_field(nullable=True)


class KasmUsageSession(TenantModel, table=True):
    """A billable stretch of a running workspace.

    Keyed by Kasm's `kasm_id` + `start_date`; `segment` counts resumes of the same Kasm session
    and splits at billing-period boundaries, so re-polling never opens or bills a stretch twice.
    """

    __tablename__ = "kasm_usage_sessions"
    __table_args__ = (sa.UniqueConstraint("kasm_id", "kasm_start_date", "segment"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="kasm_workspaces.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kasm_id: str = Field(max_length=64)
    kasm_start_date: datetime = utc_field()
    segment: int = Field(default=0)
    # Start of the billable session this segment belongs to (segments of one split share it).
    session_started_at: datetime = utc_field()
    started_at: datetime = utc_field(index=True)
    stopped_at: datetime | None = utc_field(nullable=True)
    rate: Decimal = Field(sa_type=sa.Numeric(12, 6))
    currency: str = Field(max_length=3)
    billable_seconds: int | None = None
    cost_minor: int | None = None
    end_reason: str = Field(default="", max_length=120)


class NoticeKind(StrEnum):
    LOW_BALANCE = "low_balance"
    AUTO_STOPPED = "auto_stopped"
    USAGE_LIMIT = "usage_limit"


class KasmNotice(TenantModel, table=True):
    """A low-balance warning or auto-stop notice, shown in-app and emailed once (`key` dedupes)."""

    __tablename__ = "kasm_notices"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: NoticeKind = enum_field(NoticeKind, NoticeKind.LOW_BALANCE)
    key: str = Field(max_length=120, unique=True)
    message: str = Field(max_length=500)
    created_at: datetime = utc_field(index=True)
    dismissed_at: datetime | None = utc_field(nullable=True)
