"""Provisioning tables.

Central: the configured panels (credentials encrypted at rest), which panel and package each
house plan code maps to (reseller plans with the same code inherit it), and the platform's
provisioning settings. Tenant: each service's handles on its panel, the per-step provisioning
log, and the durable jobs (provision, suspend, unsuspend, terminate, change package) that the
Celery tasks run exactly once.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ezscale.models.tenant import TenantModel
from ezscale.models.types import enum_field, utc_field
from ezscale.services.core.crypto import EncryptedString


class ProvisioningPanel(SQLModel, table=True):
    """Central: one panel (a VirtFusion, Pterodactyl, Enhance or SynergyCP installation)."""

    __tablename__ = "provisioning_panels"

    id: int | None = Field(default=None, primary_key=True)
    module: str = Field(max_length=30, index=True)
    label: str = Field(max_length=120, unique=True)
    base_url: str = Field(max_length=500)
    # JSON object of the credentials (token, key, org id), encrypted at rest.
    credentials: str = Field(default="", sa_column=sa.Column(EncryptedString(), nullable=False))
    # JSON object of module options (e.g. default hypervisor group, location).
    options: str = Field(default="{}", sa_type=sa.Text)
    timeout_seconds: float = Field(default=60.0)
    enabled: bool = Field(default=True)
    last_test_at: datetime | None = utc_field(nullable=True)
    last_test_ok: bool | None = None
    last_test_message: str = Field(default="", max_length=300)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class PanelPlanMapping(SQLModel, table=True):
    """Central: what a house plan (by code) is on which panel; reseller plans share the code."""

    __tablename__ = "provisioning_plan_mappings"

    id: int | None = Field(default=None, primary_key=True)
    plan_code: str = Field(max_length=60, unique=True)
    panel_id: int = Field(foreign_key="provisioning_panels.id", index=True)
    # The package / egg / plan id / inventory filter on the panel.
    package: str = Field(max_length=200)
    # JSON object of per-plan options (group, location, OS template, limits).
    options: str = Field(default="{}", sa_type=sa.Text)
    updated_at: datetime = utc_field()


class FailureRefund(StrEnum):
    """What a final provisioning failure does with the customer's payment."""

    CREDIT = "credit"
    CARD = "card"


class ProvisioningSettings(SQLModel, table=True):
    """Central: platform provisioning settings (one row; defaults until saved)."""

    __tablename__ = "provisioning_settings"

    id: int | None = Field(default=None, primary_key=True)
    failure_refund: FailureRefund = enum_field(FailureRefund, FailureRefund.CREDIT)
    updated_by: str = Field(default="", max_length=254)
    updated_at: datetime = utc_field()


class ServiceHandle(TenantModel, table=True):
    """Tenant: where a service lives on its panel and how the customer reaches it."""

    __tablename__ = "service_handles"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="services.id", unique=True)
    panel_id: int  # central provisioning_panels.id (another database: no foreign key)
    module: str = Field(max_length=30)
    external_id: str | None = Field(default=None, max_length=100)
    customer_external_id: str | None = Field(default=None, max_length=100)
    hostname: str = Field(default="", max_length=253)
    ips: str = Field(default="", max_length=1000)  # comma-separated
    ports: str = Field(default="", max_length=500)  # comma-separated
    username: str = Field(default="", max_length=120)
    password: str | None = Field(default=None, sa_column=sa.Column(EncryptedString(), nullable=True))
    # JSON object of module-specific handles (uuid, identifier, allocation id).
    extra: str = Field(default="{}", sa_type=sa.Text)
    updated_at: datetime = utc_field()


class LogOutcome(StrEnum):
    OK = "ok"
    RETRY = "retry"
    FAILED = "failed"


class ProvisioningLog(TenantModel, table=True):
    """Tenant: one step of provisioning or of a lifecycle action on a service, as it happened."""

    __tablename__ = "provisioning_logs"
    __table_args__ = (sa.Index("ix_provisioning_logs_service_at", "service_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="services.id")
    job_id: int | None = Field(default=None)
    step: str = Field(max_length=40)
    outcome: LogOutcome = enum_field(LogOutcome, LogOutcome.OK)
    message: str = Field(default="", max_length=500)
    attempt: int = Field(default=1)
    at: datetime = utc_field()


class JobAction(StrEnum):
    PROVISION = "provision"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    TERMINATE = "terminate"
    CHANGE_PACKAGE = "change_package"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ProvisioningJob(TenantModel, table=True):
    """Tenant: one panel action for a service, run by a Celery task until done or failed.

    `key` makes a job once (`provision:<service id>`, `suspend:<service>:<cause>`); a worker claims
    the row under a lock (`claimed_until`), so two deliveries never run it at once."""

    __tablename__ = "provisioning_jobs"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="services.id", index=True)
    action: JobAction = enum_field(JobAction, JobAction.PROVISION)
    key: str = Field(max_length=120, unique=True)
    status: JobStatus = enum_field(JobStatus, JobStatus.QUEUED, index=True)
    # create/poll phase of a provision job: "create" until the panel has the service, then "wait".
    phase: str = Field(default="create", max_length=20)
    attempts: int = Field(default=0)
    polls: int = Field(default=0)
    next_run_at: datetime = utc_field(index=True)
    claimed_until: datetime | None = utc_field(nullable=True)
    # change_package: the plan code to move to.
    target_plan_code: str = Field(default="", max_length=60)
    last_error: str = Field(default="", max_length=500)
    # Final-failure compensation, each done once: "", "credit" or "card" once the payment went back.
    refunded: str = Field(default="", max_length=10)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
