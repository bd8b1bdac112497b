"""What staff see and do on one service's provisioning: its handles, jobs and log; retrying a
failed panel action; and a force sync that re-reads the service from its panel.

Retrying a failed suspend, unsuspend, terminate or package change queues it again as a new job
(`lifecycle.request`); waiting jobs are run at once and the panel re-read by `lifecycle.retry_now`
and `lifecycle.sync`. A failed delivery is not retried: its payment was returned, and delivering
it now would deliver it unpaid — the customer orders again instead.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import JobAction, JobStatus, ProvisioningJob, ProvisioningPanel
from ezscale.models.tenant import Plan, Service, User
from ezscale.models.types import row_id
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.provisioning import lifecycle, logs
from ezscale.services.provisioning.handles import handle_of
from ezscale.services.provisioning.view import when


@dataclass(frozen=True)
class JobRow:
    """One provisioning job of a service, as the admin page lists it."""

    id: int
    action: str
    status: str
    attempts: int
    next_run: str
    last_error: str
    retryable: bool


@dataclass(frozen=True)
class StaffServiceView:
    """One service's provisioning, for staff."""

    id: int
    label: str
    customer: str
    user_id: int
    plan: str
    status: str
    status_reason: str
    panel: str
    external_id: str
    hostname: str
    ips: str
    jobs: list[JobRow]
    log: list[logs.LogRow]


def _retryable(job: ProvisioningJob) -> bool:
    return job.status is JobStatus.FAILED and job.action is not JobAction.PROVISION


def _service(db: Session, service_id: int) -> Service:
    service = db.get(Service, service_id)
    if service is None:
        raise NotFound("No such service.")
    return service


def service_view(db: Session, *, service_id: int) -> StaffServiceView:
    """The service's handles, jobs (newest first) and provisioning log."""
    service = _service(db, service_id)
    user, plan = db.get(User, service.user_id), db.get(Plan, service.plan_id)
    handle = handle_of(db, service_id)
    panel = ""
    if handle is not None:
        with central_session() as central:
            found = central.get(ProvisioningPanel, handle.panel_id)
            panel = found.label if found else f"panel #{handle.panel_id} (removed)"
    jobs = db.exec(
        select(ProvisioningJob)
        .where(ProvisioningJob.service_id == service_id)
        .order_by(col(ProvisioningJob.id).desc())
    )
    return StaffServiceView(
        id=row_id(service),
        label=service.label,
        customer=user.email if user else "",
        user_id=service.user_id,
        plan=plan.name if plan else "",
        status=service.status.value,
        status_reason=service.status_reason,
        panel=panel,
        external_id=(handle.external_id or "") if handle else "",
        hostname=handle.hostname if handle else "",
        ips=(handle.ips or "").replace(",", ", ") if handle else "",
        jobs=[
            JobRow(
                row_id(j),
                j.action.value,
                j.status.value,
                j.attempts,
                when(j.next_run_at) if j.status is JobStatus.QUEUED else "",
                j.last_error,
                _retryable(j),
            )
            for j in jobs
        ],
        log=logs.service_log(db, service_id=service_id),
    )


def retry_failed(db: Session, *, service_id: int, job_id: int, actor: AuthUser, ip: str = "") -> str:
    """Queue a failed panel action of this service again, as a new job (audited)."""
    job = db.get(ProvisioningJob, job_id)
    if job is None or job.service_id != service_id:
        raise NotFound("No such job.")
    if not _retryable(job):
        if job.status is not JobStatus.FAILED:
            raise DomainError(f"This job is {job.status.value}: only failed jobs are retried.")
        raise DomainError("This order's payment was returned: the customer orders again instead.")
    again = lifecycle.request(
        db, service_id=service_id, action=job.action, target_plan_code=job.target_plan_code
    )
    if again is None:
        raise DomainError("This service is not on a panel.")
    logs.record(
        db,
        service_id=service_id,
        job_id=again.id,
        step="retry",
        message=f"Retry of job {job.id} by {actor.email}.",
    )
    db.commit()
    record_audit(
        actor=actor,
        action="provisioning.retry",
        target=f"service:{service_id}",
        after={"job": job.id, "action": job.action.value},
        ip=ip,
    )
    return f"The {job.action.value.replace('_', ' ')} is queued again."
