"""Provisioning jobs: a paid order delivered on its panel, exactly once, or refunded.

A job is a row (`ProvisioningJob`) written in the transaction that decides it (the order paid,
the dunning step, the staff action), and run by a Celery task on the `critical` queue; a beat
sweep runs any job whose message was lost. A run claims the job under a row lock (a lease in
`claimed_until`), so a redelivered or concurrent message finds it taken and does nothing.

The service shows the state machine: pending → provisioning → active, or failed. Each step
writes a `provisioning_logs` row. Retries back off for `PanelUnavailable` / `PanelBusy` (0.2 s
first, then 1 s doubling: most faults are brief); before every retried create the module looks
for what an earlier (timed-out) attempt left and adopts it, while a first attempt skips that look
(`ServiceRef.fresh`) and reuses a stock check made seconds ago for the plan; the panel's id is
saved the moment it is returned; readiness is polled by re-running the job later (never by
sleeping in a worker), timed to the panel's learned build time (`polling`). A final failure
terminates whatever the panel has, returns the payment once (account credit with a reference
unique per service, or a card refund, per the admin setting), tells the customer and alerts
the admins.
"""

import json
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.provisioning import (
    FailureRefund,
    JobAction,
    JobStatus,
    LogOutcome,
    ProvisioningJob,
    ProvisioningLog,
    ProvisioningPanel,
    ServiceHandle,
)
from ezscale.models.tenant import (
    CreditKind,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Plan,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.models.types import existing, pk, row_id
from ezscale.money import Money
from ezscale.services.billing import credits, payments, renewal_changes, subscriptions, timeline
from ezscale.services.billing.locks import lock_held, lock_row
from ezscale.services.core.alert_policy import AlertCategory, raise_alert
from ezscale.services.core.mail import PendingMail, dispatch_pending, write_pending
from ezscale.services.provisioning import logs, stock
from ezscale.services.provisioning.handles import customer_of, handle_of, save_details, service_ref
from ezscale.services.provisioning.module import (
    BuildState,
    GoneFromPanel,
    OutOfStock,
    PanelBusy,
    PanelUnavailable,
    PlanMapping,
    ProvisioningError,
    ProvisioningModule,
)
from ezscale.services.provisioning.panels import current_settings
from ezscale.services.provisioning.polling import BUILD_TIMES, POLL_SECONDS, first_poll, next_poll
from ezscale.services.provisioning.registry import (
    build_module,
    loads,
    mapping_for_plan,
    panel_module,
    plan_mapping,
)
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
SLACK = timedelta(milliseconds=250)  # a delayed message may arrive a moment before `next_run_at`
# A short first back-off (a 5xx or a dropped reply is usually brief), then doubling: ~8.5 min in all.
BACKOFF_SECONDS: tuple[float, ...] = (0.2, 1, 2, 4, 8, 16, 32, 64, 128, 256)
CREATE_ATTEMPTS = len(BACKOFF_SECONDS) + 1
MAX_POLLS = 300  # about 2 h of building before the job gives up
_PENDING_ENQUEUE = "provisioning_jobs_to_enqueue"


def refund_reference(service_id: int) -> str:
    """The credit ledger reference of a failed service's returned payment (unique: once)."""
    return f"provisioning-refund:{service_id}"


# --- scheduling -------------------------------------------------------------------------------


def _enqueue_after_commit(db: Session) -> None:
    """Send the jobs this session committed to the worker (lazy: tasks sit above services)."""
    jobs = db.info.pop(_PENDING_ENQUEUE, None)
    database = db.info.get("tenant_database")
    if not jobs or not database:
        return
    tenant = db.info.get("tenant")  # set by tenant_session: its id needs no central look-up
    tenant_id = tenant.id if isinstance(tenant, TenantInfo) else None
    try:
        from ezscale.tasks.provisioning import enqueue

        for job_id in dict.fromkeys(jobs):
            enqueue(database, job_id, tenant_id=tenant_id)
    except Exception:  # the beat sweep runs it instead; the decision is committed either way
        log.exception("provisioning jobs %s not enqueued; the sweep will run them", jobs)


def _discard(db: Session, _transaction: object) -> None:
    db.info.pop(_PENDING_ENQUEUE, None)


def schedule(
    db: Session,
    *,
    service_id: int,
    action: JobAction,
    key: str,
    target_plan_code: str = "",
    delay: timedelta = timedelta(0),
) -> ProvisioningJob | None:
    """Add a job (not committed) unless one with `key` exists; it is sent to the worker after the
    caller's commit. A new suspend/unsuspend/terminate supersedes queued ones of the service, and
    a termination already on its way makes a second one unnecessary."""
    if db.exec(select(ProvisioningJob.id).where(ProvisioningJob.key == key)).first():
        return None
    now = clock.now()
    if (
        action is JobAction.TERMINATE
        and db.exec(
            select(ProvisioningJob.id).where(
                ProvisioningJob.service_id == service_id,
                ProvisioningJob.action == JobAction.TERMINATE,
                col(ProvisioningJob.status).in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            )
        ).first()
    ):
        return None  # one termination on its way is enough
    if action is not JobAction.PROVISION:
        superseded: tuple[JobAction, ...] = (JobAction.SUSPEND, JobAction.UNSUSPEND)
        if action is JobAction.TERMINATE:
            superseded += (JobAction.CHANGE_PACKAGE,)
        for old in db.exec(
            select(ProvisioningJob).where(
                ProvisioningJob.service_id == service_id,
                ProvisioningJob.status == JobStatus.QUEUED,
                col(ProvisioningJob.action).in_(superseded),
            )
        ):
            old.status, old.last_error, old.updated_at = JobStatus.DONE, "superseded", now
            db.add(old)
    job = ProvisioningJob(
        service_id=service_id,
        action=action,
        key=key[:120],
        target_plan_code=target_plan_code,
        next_run_at=now + delay,
        created_at=now,
        updated_at=now,
    )
    db.add(job)
    db.flush()
    send_after_commit(db, row_id(job))
    return job


def send_after_commit(db: Session, job_id: int) -> None:
    """Send the job to the worker once the session's transaction commits (dropped on rollback)."""
    db.info.setdefault(_PENDING_ENQUEUE, []).append(job_id)
    if not sa.event.contains(db, "after_commit", _enqueue_after_commit):
        sa.event.listen(db, "after_commit", _enqueue_after_commit)
        sa.event.listen(db, "after_soft_rollback", _discard)


def provision_key(service_id: int) -> str:
    """The one provisioning job of a service."""
    return f"provision:{service_id}"


def enqueue_provisioning(db: Session, *, service: Service) -> ProvisioningJob | None:
    """Queue delivery of a paid service (not committed); once per service."""
    service_id = row_id(service)
    return schedule(db, service_id=service_id, action=JobAction.PROVISION, key=provision_key(service_id))


def due_job_ids(db: Session, *, limit: int = 200) -> list[int]:
    """Jobs due to run now: queued and due, or running with an expired lease (a dead worker)."""
    now = clock.now()
    return list(
        db.exec(
            select(pk(ProvisioningJob.id))
            .where(
                sa.or_(
                    sa.and_(
                        col(ProvisioningJob.status) == JobStatus.QUEUED,
                        col(ProvisioningJob.next_run_at) <= now,
                    ),
                    sa.and_(
                        col(ProvisioningJob.status) == JobStatus.RUNNING,
                        col(ProvisioningJob.claimed_until) <= now,
                    ),
                )
            )
            .order_by(col(ProvisioningJob.next_run_at), col(ProvisioningJob.id))
            .limit(limit)
        )
    )


# --- claiming -----------------------------------------------------------------------------------


def _claim(db: Session, job_id: int) -> ProvisioningJob | None:
    """Take the job for this run (committed), or None if it is finished, not due or taken."""
    job = lock_row(db, ProvisioningJob, job_id)
    now = clock.now()
    runnable = job is not None and (
        (job.status is JobStatus.QUEUED and job.next_run_at <= now + SLACK)
        or (job.status is JobStatus.RUNNING and job.claimed_until is not None and job.claimed_until <= now)
    )
    if job is None or not runnable:
        db.rollback()
        return None
    if job.status is JobStatus.RUNNING:
        job.attempts += 1  # its worker died mid-step: that step counts, and the next looks first
    # `updated_at` stays when the job was put back: a poll learns how long it waited (`_wait`).
    job.status, job.claimed_until = JobStatus.RUNNING, now + LEASE
    db.add(job)
    db.commit()
    return job


def _again(db: Session, job: ProvisioningJob, seconds: float, error: str = "") -> float:
    """Put the job back in the queue to run in `seconds` (committed); returns the delay."""
    now = clock.now()
    job.status, job.claimed_until = JobStatus.QUEUED, None
    job.next_run_at, job.updated_at = now + timedelta(seconds=seconds), now
    if error:
        job.last_error = error[:500]
    db.add(job)
    db.commit()
    return seconds


def _finish(db: Session, job: ProvisioningJob, status: JobStatus, error: str = "") -> None:
    now = clock.now()
    job.status, job.claimed_until, job.updated_at = status, None, now
    if error:
        job.last_error = error[:500]
    db.add(job)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run did: the job's status after it, and when to run again (None: don't)."""

    status: str
    again_in: float | None = None


def run_job(db: Session, *, tenant: TenantInfo, job_id: int) -> RunResult:
    """Run one step of a job if it is due and free; safe to call twice and concurrently."""
    job = _claim(db, job_id)
    if job is None:
        return RunResult("skipped")
    try:
        if job.action is JobAction.PROVISION:
            again = _provision_step(db, tenant, job)
        else:
            from ezscale.services.provisioning.lifecycle import run_lifecycle_step

            again = run_lifecycle_step(db, tenant=tenant, job=job)
    except Exception as error:  # a bug or a broken configuration: retried, then staff are told
        log.exception("provisioning job %s crashed", job_id)
        return _crashed(db, tenant, job_id, error)
    return RunResult(job.status.value, again)


def _crashed(db: Session, tenant: TenantInfo, job_id: int, error: Exception) -> RunResult:
    """Put a crashed job back with back-off; after as many crashes as create attempts, stop it
    and alert (nothing is refunded automatically: staff look first)."""
    db.rollback()
    job = lock_held(db, ProvisioningJob, job_id)
    job.attempts += 1
    message = f"Internal error: {type(error).__name__}: {error}"[:500]
    if job.attempts < CREATE_ATTEMPTS:
        delay = BACKOFF_SECONDS[job.attempts - 1]
        logs.record(
            db,
            service_id=job.service_id,
            job_id=job.id,
            step=job.action.value,
            outcome=LogOutcome.RETRY,
            attempt=job.attempts,
            message=message,
        )
        return RunResult(job.status.value, _again(db, job, delay, message))
    logs.record(
        db,
        service_id=job.service_id,
        job_id=job.id,
        step=job.action.value,
        outcome=LogOutcome.FAILED,
        attempt=job.attempts,
        message=message,
    )
    _finish(db, job, JobStatus.FAILED, message)
    db.commit()
    raise_alert(
        AlertCategory.PROVISIONING,
        title="Provisioning job keeps failing",
        message=f"{tenant.slug}: service #{job.service_id} {job.action.value} stopped: {message}",
        fields={"tenant": tenant.slug, "service": str(job.service_id)},
    )
    return RunResult(job.status.value)


# --- provisioning -------------------------------------------------------------------------------


def _panel_for(plan_code: str) -> tuple[ProvisioningModule, PlanMapping, int, str] | None:
    """(module, plan mapping, panel id, module name) for a plan code, or None when unmapped."""
    with central_session() as central:
        row = mapping_for_plan(central, plan_code)
        if row is None:
            return None
        panel = central.get(ProvisioningPanel, row.panel_id)
        if panel is None:
            return None
        return build_module(panel), plan_mapping(row), row_id(panel), panel.module


def _hostname(service: Service) -> str:
    return f"srv{service.id}.{get_settings().platform_domain}"


def _activate(db: Session, service: Service, message: str) -> None:
    service.status, service.status_reason = ServiceStatus.ACTIVE, ""
    db.add(service)
    timeline.record(db, user_id=service.user_id, kind="service_activated", message=message)


def _panel_module(panel_id: int) -> ProvisioningModule | None:
    """The module of the panel a service was sent to, or None when that panel is gone."""
    with central_session() as central:
        try:
            return panel_module(central, panel_id)
        except NotFound:
            return None


def _provision_step(db: Session, tenant: TenantInfo, job: ProvisioningJob) -> float | None:
    service = existing(db, Service, job.service_id)
    if service.status in (ServiceStatus.TERMINATED, ServiceStatus.FAILED):
        return _abandon(db, job, service, existing(db, Plan, service.plan_id))
    handle = handle_of(db, row_id(service))
    if job.phase != "create" and handle is not None:
        # A poll asks the panel the service was created on: neither the plan nor its mapping.
        polled = _panel_module(handle.panel_id)
        if polled is not None:
            db.commit()  # no transaction (nor pooled connection) held while the panel works
            return _wait(db, tenant, job, service, handle, polled)
    plan = existing(db, Plan, service.plan_id)
    target = _panel_for(plan.provisioning_code)
    if target is None:
        # Not delivered on a panel (no mapping): active at once, as before panels existed.
        _activate(db, service, f"{service.label} (service #{service.id}) active")
        logs.record(
            db, service_id=row_id(service), job_id=job.id, step="activate", message="No panel mapping."
        )
        _finish(db, job, JobStatus.DONE)
        db.commit()
        return None
    module, mapping, panel_id, module_name = target
    if handle is None:
        handle = ServiceHandle(
            service_id=row_id(service), panel_id=panel_id, module=module_name, updated_at=clock.now()
        )
        db.add(handle)
    if service.status is ServiceStatus.PENDING:
        service.status, service.status_reason = ServiceStatus.PROVISIONING, ""
        db.add(service)
    if job.phase != "create":
        db.commit()  # no transaction (nor pooled connection) held while the panel works
        return _wait(db, tenant, job, service, handle, module)
    customer = customer_of(db, service.user_id)
    if not job.attempts and _first_on_panel(db, service, panel_id):
        customer = replace(customer, fresh=True)
    db.commit()
    return _create(db, tenant, job, service, handle, module, mapping, customer, plan.provisioning_code)


def _first_on_panel(db: Session, service: Service, panel_id: int) -> bool:
    """No other service of the customer was ever sent to this panel (nor is on its way there)."""
    others = (
        select(ServiceHandle.id)
        .join(Service, col(Service.id) == col(ServiceHandle.service_id))
        .where(
            Service.user_id == service.user_id,
            ServiceHandle.panel_id == panel_id,
            ServiceHandle.service_id != service.id,
        )
    )
    return db.exec(others).first() is None


def _create(db, tenant, job, service, handle, module, mapping, customer, plan_code) -> float | None:  # noqa: ANN001
    """Adopt what an earlier attempt left, else check stock and create."""
    attempt = job.attempts + 1
    # Nothing can be on the panel yet: no earlier attempt ran (a dead worker's step counts as one).
    fresh = not job.attempts and not handle.external_id and not handle.customer_external_id
    try:
        if not handle.external_id and job.attempts:  # only a retry can find an earlier attempt's work
            found = module.find(customer, service_ref(db, service.id, handle))
            if found is not None:
                save_details(db, handle, found)
                logs.record(
                    db,
                    service_id=service.id,
                    job_id=job.id,
                    step="adopt",
                    attempt=attempt,
                    message=f"Found server {found.external_id} left by an earlier attempt.",
                )
                db.commit()
        if not handle.external_id:
            found = stock.confirm(plan_code, lambda: module.check_capacity(mapping))
            if found is not None and not found.in_stock:
                raise OutOfStock(found.detail or "No capacity left for this plan on the panel.")
        ref = replace(service_ref(db, service.id, handle), fresh=fresh)
        details = module.create(customer, ref, mapping, hostname=_hostname(service))
    except (PanelUnavailable, PanelBusy) as error:
        if error.partial is not None:
            save_details(db, handle, error.partial)
        job.attempts = attempt
        if attempt >= CREATE_ATTEMPTS:
            return _fail(
                db, tenant, job, service, handle, module, f"{error} (gave up after {attempt} attempts)"
            )
        delay = BACKOFF_SECONDS[attempt - 1]
        logs.record(
            db,
            service_id=service.id,
            job_id=job.id,
            step="create",
            outcome=LogOutcome.RETRY,
            attempt=attempt,
            message=f"{error} Retrying in {delay} s.",
        )
        return _again(db, job, delay, str(error))
    except ProvisioningError as error:
        if error.partial is not None:
            save_details(db, handle, error.partial)
        job.attempts = attempt
        return _fail(db, tenant, job, service, handle, module, str(error))
    save_details(db, handle, details)
    job.attempts, job.phase, job.polls = attempt, "wait", 0
    logs.record(
        db,
        service_id=service.id,
        job_id=job.id,
        step="create",
        attempt=attempt,
        message=f"Created {details.external_id} on the panel; building.",
    )
    if details.state is BuildState.READY:
        return _ready(db, tenant, job, service, handle, details)
    return _again(db, job, first_poll(BUILD_TIMES.expected(handle.panel_id)))


def _wait(db, tenant, job, service, handle, module) -> float | None:  # noqa: ANN001
    """Poll the panel once; ready → active, failed → final failure, else poll again later (a
    failed poll too: soon, on the schedule timed to the panel's expected build time)."""
    job.polls += 1
    expected = BUILD_TIMES.expected(handle.panel_id)
    try:
        details = module.status(service_ref(db, service.id, handle))
    except (PanelUnavailable, PanelBusy) as error:
        if job.polls >= MAX_POLLS:
            return _fail(db, tenant, job, service, handle, module, str(error))
        logs.record(
            db,
            service_id=service.id,
            job_id=job.id,
            step="poll",
            outcome=LogOutcome.RETRY,
            attempt=job.polls,
            message=str(error),
        )
        return _again(db, job, next_poll(job.polls, expected), str(error))
    except GoneFromPanel:
        # Deleted on the panel while building: create again (the job's attempts still count).
        handle.external_id = None
        job.phase = "create"
        db.add(handle)
        logs.record(
            db,
            service_id=service.id,
            job_id=job.id,
            step="poll",
            outcome=LogOutcome.RETRY,
            attempt=job.polls,
            message="The server vanished from the panel; creating it again.",
        )
        return _again(db, job, POLL_SECONDS)
    except ProvisioningError as error:
        return _fail(db, tenant, job, service, handle, module, str(error))
    if details.state in (BuildState.READY, BuildState.SUSPENDED):
        _learn_build_time(db, job, handle)
        return _ready(db, tenant, job, service, handle, details)
    if details.state is BuildState.FAILED:
        return _fail(
            db, tenant, job, service, handle, module, details.message or "The panel could not build it."
        )
    if job.polls >= MAX_POLLS:
        return _fail(db, tenant, job, service, handle, module, "The panel did not finish building in time.")
    if job.polls == 1:
        logs.record(db, service_id=service.id, job_id=job.id, step="poll", message="Building on the panel.")
    return _again(db, job, next_poll(job.polls, expected))


def _learn_build_time(db: Session, job: ProvisioningJob, handle: ServiceHandle) -> None:
    """Teach the panel's expected build time: from the create's reply to the time this poll was
    due (not when a busy worker got to it: the schedule, not the queue's delay, is learned)."""
    created = db.exec(
        select(sa.func.max(ProvisioningLog.at)).where(
            ProvisioningLog.job_id == job.id,
            ProvisioningLog.step == "create",
            ProvisioningLog.outcome == LogOutcome.OK,
        )
    ).one()
    if created is None:
        return
    BUILD_TIMES.observe(
        handle.panel_id,
        ready_after=(job.next_run_at - created).total_seconds(),
        first_poll=job.polls == 1,
        waited=(job.next_run_at - job.updated_at).total_seconds(),
    )


def _ready(db, tenant, job, service, handle, details) -> float | None:  # noqa: ANN001
    save_details(db, handle, details)
    set_plan_code(handle, existing(db, Plan, service.plan_id).provisioning_code)
    if service.status is ServiceStatus.PROVISIONING:
        _activate(db, service, f"{service.label} (service #{service.id}) delivered and active")
    logs.record(db, service_id=service.id, job_id=job.id, step="ready", message="Ready on the panel.")
    _finish(db, job, JobStatus.DONE)
    user = existing(db, User, service.user_id)
    write_pending(
        db,
        [
            PendingMail(
                user.email,
                f"{service.label or 'Your service'} is ready",
                _ready_text(service, handle),
                "provisioning_ready",
            )
        ],
    )
    db.commit()
    dispatch_pending(tenant)
    return None


def set_plan_code(handle: ServiceHandle, plan_code: str) -> None:
    """Remember which plan's package the panel has (a plan change is followed when it differs)."""
    handle.extra = json.dumps({**loads(handle.extra), "plan_code": plan_code})


def _ready_text(service: Service, handle: ServiceHandle) -> str:
    lines = [f"{service.label or 'Your service'} (service #{service.id}) is ready."]
    if handle.hostname:
        lines.append(f"Hostname: {handle.hostname}")
    if handle.ips:
        lines.append(f"IP addresses: {handle.ips.replace(',', ', ')}")
    lines.append("Your login details are on the service page in your account.")
    return "\n".join(lines)


# --- final failure ------------------------------------------------------------------------------


def _abandon(db: Session, job: ProvisioningJob, service: Service, plan: Plan) -> float | None:
    """The service was terminated (or failed) while its job waited: remove what the panel has."""
    handle = handle_of(db, row_id(service))
    target = _panel_for(plan.provisioning_code)
    if handle is not None and target is not None:
        _remove_from_panel(db, job, service, handle, target[0])
    logs.record(
        db,
        service_id=row_id(service),
        job_id=job.id,
        step="abandon",
        message=f"Service is {service.status.value}: provisioning stopped.",
    )
    _finish(db, job, JobStatus.DONE)
    db.commit()
    return None


def _remove_from_panel(
    db: Session,
    job: ProvisioningJob,
    service: Service,
    handle: ServiceHandle | None,
    module: ProvisioningModule,
) -> None:
    """Terminate whatever the panel has for the service; a panel that cannot be reached gets a
    terminate job with retries (never an orphan left silently)."""
    try:
        ref = service_ref(db, row_id(service), handle)
        if not ref.external_id:
            found = module.find(customer_of(db, service.user_id), ref)
            if found is None:
                return
            if handle is not None:
                save_details(db, handle, found)
            ref = replace(
                ref,
                external_id=found.external_id,
                customer_external_id=found.customer_external_id,
                extra=found.extra,
            )
        module.terminate(ref)
        logs.record(
            db, service_id=row_id(service), job_id=job.id, step="cleanup", message="Removed from the panel."
        )
    except GoneFromPanel:
        logs.record(
            db,
            service_id=row_id(service),
            job_id=job.id,
            step="cleanup",
            message="Nothing left on the panel.",
        )
    except ProvisioningError as error:
        logs.record(
            db,
            service_id=row_id(service),
            job_id=job.id,
            step="cleanup",
            outcome=LogOutcome.RETRY,
            message=f"{error} A terminate job will retry.",
        )
        schedule(
            db,
            service_id=row_id(service),
            action=JobAction.TERMINATE,
            key=f"terminate:{row_id(service)}:cleanup",
        )


def _order_invoice(db: Session, service_id: int) -> Invoice | None:
    return db.exec(
        select(Invoice)
        .join(InvoiceItem, col(InvoiceItem.invoice_id) == Invoice.id)
        .where(
            InvoiceItem.service_id == service_id,
            Invoice.status == InvoiceStatus.PAID,
            col(Invoice.billing_key).startswith(subscriptions.ORDER_KEY_PREFIX),
        )
        .order_by(col(Invoice.id))
    ).first()


def _return_payment(db: Session, service: Service, job: ProvisioningJob, mode: FailureRefund) -> str:
    """Give the order's payment back once (the job row is locked): returns what was done."""
    invoice = _order_invoice(db, row_id(service))
    if invoice is None:
        return "Nothing was paid."
    card_paid = 0
    card_payments: list[Payment] = []
    if mode is FailureRefund.CARD:
        card_payments = list(
            db.exec(
                select(Payment).where(
                    Payment.invoice_id == invoice.id, Payment.status == PaymentStatus.SUCCEEDED
                )
            )
        )
        card_paid = sum(p.amount_minor - p.refunded_minor for p in card_payments)
    paid = invoice.amount_paid_minor + invoice.credit_applied_minor - invoice.credited_minor
    as_credit = paid - card_paid
    done = []
    job.refunded = "card" if card_paid else "credit"
    if as_credit > 0:
        credits.add_entry(
            db,
            user_id=service.user_id,
            kind=CreditKind.REFUND,
            amount_minor=as_credit,
            currency=invoice.currency,
            memo=f"Returned: service #{service.id} could not be delivered (invoice {invoice.number})",
            reference=refund_reference(row_id(service)),
        )
        done.append(f"{Money(as_credit, invoice.currency).format()} returned as account credit")
    db.add(job)
    db.commit()  # the credit and the job's mark commit together: never twice
    for payment in card_payments:
        left = payment.amount_minor - payment.refunded_minor
        if left <= 0:
            continue
        try:
            payments.refund(
                db, payment=payment, amount_minor=left, reason=f"service #{service.id} not delivered"
            )
            done.append(f"{Money(left, payment.currency).format()} refunded to the card")
        except DomainError as error:
            done.append(
                f"card refund of {Money(left, payment.currency).format()} failed ({error}): refund by hand"
            )
            raise_alert(
                AlertCategory.PROVISIONING,
                title="Provisioning refund failed",
                message=f"Service #{service.id}: {error}",
                fields={"service": str(service.id)},
            )
    return "; ".join(done) or "Nothing was paid."


def _fail(db, tenant, job, service, handle, module, message: str) -> float | None:  # noqa: ANN001
    """Final failure: clean the panel, return the payment once, tell the customer and admins."""
    job_id, service_id = job.id, service.id
    _remove_from_panel(db, job, service, handle, module)
    db.commit()
    job = lock_row(db, ProvisioningJob, job_id)
    if job.status is not JobStatus.RUNNING:
        db.rollback()
        return None
    returned = "The payment was returned earlier"
    if not job.refunded:
        with central_session() as central:
            mode = current_settings(central).failure_refund
        try:
            returned = _return_payment(db, db.get(Service, service_id), job, mode)
        except IntegrityError:
            db.rollback()  # a concurrent run returned it first (the reference is unique)
            return None
        job = lock_row(db, ProvisioningJob, job_id)
    service = db.get(Service, service_id)
    service.status, service.status_reason = ServiceStatus.FAILED, message[:300]
    db.add(service)
    for sub in db.exec(select(Subscription).where(Subscription.service_id == service_id)):
        if sub.status is not SubscriptionStatus.CANCELLED:
            sub.status, sub.cancelled_at = SubscriptionStatus.CANCELLED, clock.now()
            renewal_changes.follow_cancel(db, subscription=sub)
            db.add(sub)
    logs.record(
        db,
        service_id=service_id,
        job_id=job_id,
        step="failed",
        outcome=LogOutcome.FAILED,
        attempt=job.attempts,
        message=f"{message} {returned}.",
    )
    timeline.record(
        db,
        user_id=service.user_id,
        kind="service_failed",
        message=f"Service #{service_id} could not be delivered: {message} ({returned})",
    )
    user = db.get(User, service.user_id)
    text = (
        f"We could not set up {service.label or 'your service'} (service #{service_id}): {message}\n\n"
        f"{returned}. We are sorry; our team has been told."
    )
    write_pending(
        db, [PendingMail(user.email, "We could not set up your service", text, "provisioning_failed")]
    )
    _finish(db, job, JobStatus.FAILED, message)
    db.commit()
    dispatch_pending(tenant)
    raise_alert(
        AlertCategory.PROVISIONING,
        title="Provisioning failed",
        message=f"{tenant.slug}: service #{service_id} ({service.label}) failed: {message}",
        fields={"tenant": tenant.slug, "service": str(service_id), "payment": returned},
    )
    return None
