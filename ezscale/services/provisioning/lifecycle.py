"""Suspension, unsuspension, termination and package changes reach the panel.

Dunning, staff actions and cancellations call `request` in the transaction that decides the
change; a job (`jobs.schedule`) carries it to the panel with retries. Every outcome is logged on
the service; a final failure or a panel policy that needs staff alerts the admins (never dropped
silently); `GoneFromPanel` counts as done for suspend and terminate.
"""

import secrets
from collections.abc import Iterable

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import JobAction, JobStatus, LogOutcome, ProvisioningJob
from ezscale.models.tenant import Plan, Service
from ezscale.models.types import existing, row_id
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.alert_policy import AlertCategory, raise_alert
from ezscale.services.core.audit import record_audit
from ezscale.services.provisioning import logs
from ezscale.services.provisioning.handles import (
    context_for,
    handle_of,
    held_handle,
    save_details,
    service_ref,
)
from ezscale.services.provisioning.jobs import (
    BACKOFF_SECONDS,
    _again,
    _finish,
    provision_key,
    schedule,
    send_after_commit,
    set_plan_code,
)
from ezscale.services.provisioning.module import (
    GoneFromPanel,
    NeedsStaff,
    PanelBusy,
    PanelUnavailable,
    ProvisioningError,
    ServiceDetails,
)
from ezscale.services.provisioning.registry import loads, mapping_for_plan, plan_mapping
from ezscale.services.tenancy.tenants import TenantInfo

LIFECYCLE_ATTEMPTS = len(BACKOFF_SECONDS) + 3
_WAIT_SECONDS = 5.0


def on_panel(db: Session, service_id: int) -> bool:
    """Whether the service was sent to a panel (a handle, or a provisioning job)."""
    if handle_of(db, service_id) is not None:
        return True
    return (
        db.exec(select(ProvisioningJob.id).where(ProvisioningJob.key == provision_key(service_id))).first()
        is not None
    )


def request(
    db: Session, *, service_id: int, action: JobAction, cause: str = "", target_plan_code: str = ""
) -> ProvisioningJob | None:
    """Queue a panel action for a service (not committed); None when the service is not on a
    panel. `cause` makes the job once (e.g. the dunning step); empty means a new one each call."""
    if action is JobAction.PROVISION:
        raise DomainError("Provisioning is queued when the order is paid.")
    if not on_panel(db, service_id):
        return None
    key = f"{action.value}:{service_id}:{cause or secrets.token_hex(8)}"
    return schedule(db, service_id=service_id, action=action, key=key, target_plan_code=target_plan_code)


def follow_plan(db: Session, *, service_id: int) -> ProvisioningJob | None:
    """Queue a package change when the service's plan is no longer the one its panel has (after
    a plan change is paid, or at once for a downgrade paid by credit). Not committed."""
    handle = handle_of(db, service_id)
    service = db.get(Service, service_id)
    if handle is None or service is None or not handle.external_id:
        return None
    code = existing(db, Plan, service.plan_id).provisioning_code
    if loads(handle.extra).get("plan_code", code) == code:
        return None
    return request(db, service_id=service_id, action=JobAction.CHANGE_PACKAGE, target_plan_code=code)


def request_many(db: Session, *, service_ids: Iterable[int], action: JobAction, cause: str = "") -> int:
    """`request` for several services; returns how many jobs were queued."""
    return sum(1 for sid in service_ids if request(db, service_id=sid, action=action, cause=cause))


def _alert(tenant: TenantInfo, service_id: int, title: str, message: str) -> None:
    raise_alert(
        AlertCategory.PROVISIONING,
        title=title,
        message=f"{tenant.slug}: service #{service_id}: {message}",
        fields={"tenant": tenant.slug, "service": str(service_id)},
    )


def _fail(
    db: Session, tenant: TenantInfo, job: ProvisioningJob, attempt: int, message: str, title: str
) -> None:
    logs.record(
        db,
        service_id=job.service_id,
        job_id=job.id,
        step=job.action.value,
        outcome=LogOutcome.FAILED,
        attempt=attempt,
        message=message,
    )
    _finish(db, job, JobStatus.FAILED, message)
    db.commit()
    _alert(tenant, job.service_id, title, f"{job.action.value} did not reach the panel: {message}")


def _call(db: Session, job: ProvisioningJob) -> str:
    """Make the panel call for the job; returns what to log."""
    service = existing(db, Service, job.service_id)
    ctx = context_for(db, service_id=job.service_id)
    ref = ctx.ref
    if job.action is JobAction.TERMINATE and not ref.external_id:
        found = ctx.module.find(ctx.customer, ref)
        if found is None:
            return "Nothing on the panel."
        save_details(db, held_handle(db, job.service_id), found)
        ref = service_ref(db, job.service_id, handle_of(db, job.service_id))
    match job.action:
        case JobAction.SUSPEND:
            ctx.module.suspend(ref, reason=service.status_reason or "suspended")
            return "Suspended on the panel."
        case JobAction.UNSUSPEND:
            ctx.module.unsuspend(ref)
            return "Unsuspended on the panel."
        case JobAction.TERMINATE:
            ctx.module.terminate(ref)
            return "Terminated on the panel."
        case JobAction.CHANGE_PACKAGE:
            with central_session() as central:
                row = mapping_for_plan(central, job.target_plan_code)
                if row is None:
                    raise NotFound("The new plan has no panel mapping.")
                mapping = plan_mapping(row)
            ctx.module.change_package(ref, mapping)
            set_plan_code(held_handle(db, job.service_id), job.target_plan_code)
            return f"Package changed to {mapping.package} ({job.target_plan_code})."
    raise DomainError("Unknown provisioning action.")


def run_lifecycle_step(db: Session, *, tenant: TenantInfo, job: ProvisioningJob) -> float | None:
    """Run a claimed lifecycle job once; returns the delay before the next try, or None."""
    earlier = select(ProvisioningJob.id).where(
        ProvisioningJob.service_id == job.service_id,
        col(ProvisioningJob.id) < row_id(job),
        col(ProvisioningJob.status).in_((JobStatus.QUEUED, JobStatus.RUNNING)),
    )
    if job.action is JobAction.TERMINATE:
        earlier = earlier.where(ProvisioningJob.action != JobAction.PROVISION)
    if db.exec(earlier).first():
        return _again(db, job, _WAIT_SECONDS)  # keep the order of a service's actions
    handle = handle_of(db, job.service_id)
    attempt = job.attempts + 1
    if handle is None or (not handle.external_id and job.action is not JobAction.TERMINATE):
        logs.record(
            db,
            service_id=job.service_id,
            job_id=job.id,
            step=job.action.value,
            message="Not on a panel: nothing to do.",
        )
        _finish(db, job, JobStatus.DONE)
        db.commit()
        return None
    try:
        message = _call(db, job)
    except GoneFromPanel as error:
        if job.action not in (JobAction.SUSPEND, JobAction.TERMINATE):
            _fail(db, tenant, job, attempt, str(error), "Service missing on its panel")
            return None
        message = "Already gone from the panel."
    except NeedsStaff as error:
        _fail(db, tenant, job, attempt, str(error), "Provisioning needs staff")
        return None
    except (PanelUnavailable, PanelBusy) as error:
        job.attempts = attempt
        if attempt >= LIFECYCLE_ATTEMPTS:
            _fail(
                db, tenant, job, attempt, f"{error} (gave up after {attempt} attempts)", "Panel action failed"
            )
            return None
        delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1]
        logs.record(
            db,
            service_id=job.service_id,
            job_id=job.id,
            step=job.action.value,
            outcome=LogOutcome.RETRY,
            attempt=attempt,
            message=f"{error} Retrying in {delay} s.",
        )
        return _again(db, job, delay, str(error))
    except (ProvisioningError, NotFound) as error:
        _fail(db, tenant, job, attempt, str(error), "Panel action failed")
        return None
    job.attempts = attempt
    logs.record(
        db, service_id=job.service_id, job_id=job.id, step=job.action.value, attempt=attempt, message=message
    )
    _finish(db, job, JobStatus.DONE)
    db.commit()
    return None


def retry_now(db: Session, *, service_id: int, actor: AuthUser, ip: str = "") -> int:
    """Staff: run the service's waiting jobs now instead of after their back-off; returns how many."""
    waiting = list(
        db.exec(
            select(ProvisioningJob).where(
                ProvisioningJob.service_id == service_id, ProvisioningJob.status == JobStatus.QUEUED
            )
        )
    )
    for job in waiting:
        job.next_run_at = clock.now()
        db.add(job)
        send_after_commit(db, row_id(job))
    logs.record(db, service_id=service_id, step="retry", message=f"Retry now by {actor.email}.")
    db.commit()
    record_audit(
        actor=actor,
        action="provisioning.retry",
        target=f"service:{service_id}",
        after={"jobs": len(waiting)},
        ip=ip,
    )
    return len(waiting)


def sync(db: Session, *, service_id: int, actor: AuthUser, ip: str = "") -> ServiceDetails:
    """Staff: read the service's state from its panel and store its handles (logged, audited)."""
    ctx = context_for(db, service_id=service_id)
    try:
        details = ctx.module.status(ctx.ref)
    except ProvisioningError as error:
        logs.record(db, service_id=service_id, step="sync", outcome=LogOutcome.FAILED, message=str(error))
        db.commit()
        raise
    save_details(db, held_handle(db, service_id), details)
    logs.record(db, service_id=service_id, step="sync", message=f"Panel says {details.state.value}.")
    db.commit()
    record_audit(
        actor=actor,
        action="provisioning.sync",
        target=f"service:{service_id}",
        after={"state": details.state.value},
        ip=ip,
    )
    return details
