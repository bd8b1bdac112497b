"""What staff see and do on one service's provisioning: its handles, jobs and log; retrying a
failed panel action; and a force sync that re-reads the service from its panel.

A retry puts the failed job back in the queue (the worker's sweep runs it within a minute). A
provisioning job whose payment was already returned is not retried: that service was refunded,
and delivering it now would deliver it unpaid — the customer orders again instead.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import JobAction, JobStatus, LogOutcome, ProvisioningJob, ProvisioningPanel
from ezscale.models.tenant import Plan, Service, User
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.provisioning import logs
from ezscale.services.provisioning.handles import context_for, handle_of, save_details
from ezscale.services.provisioning.view import when
from ezscale.services.tenancy.tenants import TenantInfo


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
    return job.status is JobStatus.FAILED and not (job.action is JobAction.PROVISION and job.refunded)


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
        id=service.id,
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
                j.id,
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


def retry_job(
    db: Session, *, tenant: TenantInfo, service_id: int, job_id: int, actor: AuthUser, ip: str = ""
) -> str:
    """Queue a failed job of this service again, now (audited); returns what was done."""
    job = db.get(ProvisioningJob, job_id)
    if job is None or job.service_id != service_id:
        raise NotFound("No such job.")
    if not _retryable(job):
        if job.status is not JobStatus.FAILED:
            raise DomainError(f"This job is {job.status.value}: only failed jobs are retried.")
        raise DomainError("This order's payment was returned: the customer orders again instead.")
    now = clock.now()
    job.status, job.attempts, job.polls, job.last_error = JobStatus.QUEUED, 0, 0, ""
    job.next_run_at, job.claimed_until, job.updated_at = now, None, now
    db.add(job)
    logs.record(db, service_id=service_id, job_id=job.id, step="retry", message=f"Retried by {actor.email}")
    db.commit()
    record_audit(
        actor=actor,
        action="provisioning.retry",
        target=f"tenant:{tenant.id}/service:{service_id}",
        after={"job": job.id, "action": job.action.value},
        ip=ip,
    )
    return f"The {job.action.value.replace('_', ' ')} job is queued again."


def force_sync(db: Session, *, tenant: TenantInfo, service_id: int, actor: AuthUser, ip: str = "") -> str:
    """Re-read the service from its panel and store what it says (handles, address, login);
    a panel state that differs from ours is logged for staff, never applied to billing."""
    service = _service(db, service_id)
    context = context_for(db, service_id=service_id)
    details = context.module.status(context.ref)
    save_details(db, handle_of(db, service_id), details)
    mismatch = {"ready": "active", "suspended": "suspended"}.get(details.state.value) not in (
        None,
        service.status.value,
    )
    message = f"Panel says {details.state.value}; we say {service.status.value}"
    logs.record(
        db,
        service_id=service_id,
        step="sync",
        outcome=LogOutcome.FAILED if mismatch else LogOutcome.OK,
        message=message + (": check it" if mismatch else ""),
    )
    db.commit()
    record_audit(
        actor=actor,
        action="provisioning.sync",
        target=f"tenant:{tenant.id}/service:{service_id}",
        after={"panel_state": details.state.value},
        ip=ip,
    )
    return message + "."
