"""Kasm Workspaces: ordering, customer actions, and driving each workspace to the state it should be in.

Customer actions (order, start, stop, terminate) only change the database — usage sessions open
and close at the moment of the action — and the caller then enqueues `converge`, which makes
Kasm match: request/resume a session and wait until it runs, destroy or stop it, clean up.
Stopping is `destroy_kasm` for ephemeral templates and `stop_kasm`/`resume_kasm` for persistent
ones; time while stopped or paused is not billed.
"""

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.kasm import (
    KasmAccount,
    KasmTemplate,
    KasmType,
    KasmWorkspace,
    TemplateStatus,
    WorkspaceStatus,
)
from ezscale.models.tenant import Plan, Service, ServiceStatus, ServiceType, User
from ezscale.models.types import existing, row_id
from ezscale.money import Money
from ezscale.services.core.alert_policy import AlertCategory, raise_alert
from ezscale.services.kasm.client import KasmClient, KasmError, KasmNotFound, KasmTransientError
from ezscale.services.kasm.credit import available_credit_minor, has_saved_payment_method
from ezscale.services.kasm.ledger import close_usage, open_usage, workspace_rate
from ezscale.services.kasm.mail import send_customer_mail
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings

log = logging.getLogger(__name__)

PROVISION_TIMEOUT = timedelta(minutes=10)


def order_workspace(db: Session, *, user_id: int, plan_id: int, template_id: int) -> KasmWorkspace:
    """Create a workspace (and its service) as *provisioning*; the caller enqueues `converge`."""
    plan = db.get(Plan, plan_id)
    if (
        plan is None
        or plan.service_type is not ServiceType.KASM
        or not plan.active
        or plan.hourly_rate is None
    ):
        raise DomainError("Please pick a workspace type.")
    template = db.get(KasmTemplate, template_id)
    if template is None or template.status is not TemplateStatus.ACTIVE:
        raise DomainError("Please pick a workspace template.")
    # Billed in the customer's currency: refused now (not when it starts) if no rate is known.
    currency = workspace_rate(db, plan=plan, user_id=user_id).currency
    minimum = get_settings().kasm_min_credit_minor
    available = available_credit_minor(db, user_id=user_id, currency=currency, now=clock.now())
    if available < minimum and not has_saved_payment_method(db, user_id=user_id):
        raise DomainError(
            f"Add at least {Money(minimum, currency).format()} of credit or a payment method "
            "before ordering a workspace."
        )
    size = db.exec(select(KasmType).where(KasmType.plan_id == plan.id)).first()
    now = clock.now()
    service = Service(
        user_id=user_id,
        plan_id=row_id(plan),
        label=f"{plan.name} · {template.name}",
        status=ServiceStatus.PROVISIONING,
        created_at=now,
    )
    db.add(service)
    db.flush()
    ws = KasmWorkspace(
        service_id=row_id(service),
        user_id=user_id,
        plan_id=row_id(plan),
        template_id=row_id(template),
        cores=size.cores if size else template.cores,
        memory_mb=size.memory_mb if size else template.memory_mb,
        created_at=now,
        changed_at=now,
    )
    db.add(ws)
    db.commit()
    return ws


def _owned(db: Session, *, user_id: int, workspace_id: int) -> KasmWorkspace:
    ws = db.get(KasmWorkspace, workspace_id, with_for_update=True)
    if ws is None or ws.user_id != user_id:
        raise NotFound("No such workspace.")
    return ws


def _set_status(db: Session, ws: KasmWorkspace, status: WorkspaceStatus, reason: str = "") -> None:
    ws.status = status
    ws.status_reason = reason[:300]
    ws.changed_at = clock.now()
    db.add(ws)


def stop_workspace(
    db: Session, *, user_id: int | None, workspace_id: int, reason: str = "Stopped"
) -> KasmWorkspace:
    """Stop billing now and mark the workspace *stopping*; `converge` stops it in Kasm.

    `user_id=None` is the platform acting (credit guard, usage limit)."""
    ws = (
        db.get(KasmWorkspace, workspace_id, with_for_update=True)
        if user_id is None
        else _owned(db, user_id=user_id, workspace_id=workspace_id)
    )
    if ws is None or ws.status is not WorkspaceStatus.RUNNING:
        raise DomainError("Only a running workspace can be stopped.")
    close_usage(db, ws=ws, at=clock.now(), reason=reason)
    ws.last_stopped_at = clock.now()
    _set_status(db, ws, WorkspaceStatus.STOPPING, "" if reason == "Stopped" else reason)
    db.commit()
    return ws


def start_workspace(db: Session, *, user_id: int, workspace_id: int) -> KasmWorkspace:
    """Ask for a stopped workspace to start (the converge task does it); refused while suspended,
    or with neither credit nor a saved card."""
    ws = _owned(db, user_id=user_id, workspace_id=workspace_id)
    if ws.status is not WorkspaceStatus.STOPPED:
        raise DomainError("Only a stopped workspace can be started.")
    service = existing(db, Service, ws.service_id)
    if service.status is ServiceStatus.SUSPENDED:
        raise DomainError("This workspace is suspended until its overdue invoice is paid.")
    plan = existing(db, Plan, ws.plan_id)
    currency = workspace_rate(db, plan=plan, user_id=user_id).currency
    available = available_credit_minor(db, user_id=user_id, currency=currency, now=clock.now())
    if available <= 0 and not has_saved_payment_method(db, user_id=user_id):
        raise DomainError("Your account has no credit left: add credit or a payment method to start it.")
    _set_status(db, ws, WorkspaceStatus.STARTING)
    db.commit()
    return ws


def terminate_workspace(db: Session, *, user_id: int, workspace_id: int) -> KasmWorkspace:
    """End a workspace for good: close its usage and mark it and its service terminated (repeat
    calls are no-ops)."""
    ws = _owned(db, user_id=user_id, workspace_id=workspace_id)
    if ws.status is WorkspaceStatus.TERMINATED:
        return ws
    now = clock.now()
    close_usage(db, ws=ws, at=now, reason="Terminated")
    ws.terminated_at = now
    _set_status(db, ws, WorkspaceStatus.TERMINATED)
    service = existing(db, Service, ws.service_id)
    service.status = ServiceStatus.TERMINATED
    db.add(service)
    db.commit()
    return ws


def open_url(db: Session, *, user_id: int, workspace_id: int, client: KasmClient) -> str:
    """A fresh one-time `kasm_url` (every status call rotates the token, so never stored)."""
    ws = _owned(db, user_id=user_id, workspace_id=workspace_id)
    if ws.status is not WorkspaceStatus.RUNNING or not ws.kasm_id:
        raise DomainError("The workspace is not running.")
    try:
        status = client.get_kasm_status(kasm_id=ws.kasm_id, user_id=ws.kasm_user_id)
    except KasmError as error:
        raise DomainError("The workspace cannot be reached right now; please try again.") from error
    if not status.running or not status.kasm_url:
        raise DomainError("The workspace is not ready yet.")
    return status.kasm_url


# --- converging with Kasm (run by the worker) --------------------------------------------------


class Next(StrEnum):
    """What the converge task does after a step: finish, poll Kasm again, or retry after an error."""

    DONE = "done"
    POLL = "poll"
    RETRY = "retry"


def _ensure_account(db: Session, *, tenant: TenantInfo, user_id: int, client: KasmClient) -> KasmAccount:
    account = db.exec(select(KasmAccount).where(KasmAccount.user_id == user_id)).first()
    if account is not None:
        return account
    user = existing(db, User, user_id)
    username = f"{tenant.slug}-u{user_id}"
    password = secrets.token_urlsafe(18)
    try:
        kasm_user = client.create_user(username=username, password=password, first_name=user.name[:60])
    except KasmError as error:
        if "exists" not in str(error).lower():
            raise
        # A previous attempt created it but its reply was lost: take it over with a new password.
        kasm_user = client.get_user(username=username)
        client.update_user(user_id=kasm_user.user_id, password=password)
    account = KasmAccount(
        user_id=user_id,
        kasm_user_id=kasm_user.user_id,
        username=username,
        password=password,
        created_at=clock.now(),
    )
    db.add(account)
    db.commit()
    return account


def _unattached(db: Session, *, client: KasmClient, kasm_user_id: str, image_id: str | None) -> list[str]:
    """This Kasm user's sessions that no workspace row owns (lost replies, half-done attempts)."""
    attached = set(
        db.exec(select(KasmWorkspace.kasm_id).where(col(KasmWorkspace.kasm_id).is_not(None))).all()
    )
    return [
        s.kasm_id
        for s in client.get_user_kasms(user_id=kasm_user_id)
        if s.kasm_id not in attached and (image_id is None or s.image_id == image_id)
    ]


def _mark_running(
    db: Session, *, tenant: TenantInfo, ws: KasmWorkspace, start_date: datetime | None, account: KasmAccount
) -> None:
    now = clock.now()
    first = ws.provisioned_at is None
    ws.kasm_start_date = start_date or now
    ws.provisioned_at = ws.provisioned_at or now
    ws.last_started_at = now
    ws.keepalive_at = now
    ws.attempts = 0
    _set_status(db, ws, WorkspaceStatus.RUNNING)
    open_usage(db, ws=ws, at=now, kasm_start_date=ws.kasm_start_date)
    service = existing(db, Service, ws.service_id)
    service.status = ServiceStatus.ACTIVE
    service.status_reason = ""
    db.add(service)
    db.commit()
    if first:
        user = existing(db, User, ws.user_id)
        send_customer_mail(
            tenant,
            to=user.email,
            subject="Your workspace is ready",
            text=(
                f"Your workspace “{service.label}” is running.\n\n"
                "Sign in to the workspace with\n"
                f"  username: {account.username}\n  password: {account.password}\n\n"
                "Open it from your dashboard at any time."
            ),
            kind="kasm_credentials",
        )


def _advance_start(db: Session, *, tenant: TenantInfo, ws: KasmWorkspace, client: KasmClient) -> Next:
    template = existing(db, KasmTemplate, ws.template_id)
    account = _ensure_account(db, tenant=tenant, user_id=ws.user_id, client=client)
    if ws.kasm_user_id != account.kasm_user_id:
        ws.kasm_user_id, ws.login_username, ws.login_password = (
            account.kasm_user_id,
            account.username,
            account.password,
        )
    if ws.kasm_id is None:
        adopted = (
            _unattached(db, client=client, kasm_user_id=account.kasm_user_id, image_id=template.image_id)
            if ws.attempts
            else []
        )
        if adopted:
            ws.kasm_id = adopted[0]
        else:
            ws.attempts += 1
            db.add(ws)
            db.commit()
            ws.kasm_id = client.request_kasm(user_id=account.kasm_user_id, image_id=template.image_id).kasm_id
        db.add(ws)
        db.commit()
    try:
        status = client.get_kasm_status(kasm_id=ws.kasm_id, user_id=account.kasm_user_id)
    except KasmNotFound:
        ws.kasm_id = None
        db.add(ws)
        db.commit()
        return Next.POLL
    if status.running:
        db.refresh(ws, with_for_update=True)  # the customer may have terminated it meanwhile
        if ws.status not in (WorkspaceStatus.PROVISIONING, WorkspaceStatus.STARTING):
            return Next.DONE
        _mark_running(db, tenant=tenant, ws=ws, start_date=status.start_date, account=account)
        return Next.DONE
    if status.operational_status in ("stopped", "paused"):
        client.resume_kasm(kasm_id=ws.kasm_id, user_id=account.kasm_user_id)
    if clock.now() - ws.changed_at > PROVISION_TIMEOUT:
        raise KasmError(f"the session did not start within {PROVISION_TIMEOUT.seconds // 60} minutes")
    return Next.POLL


def _release(db: Session, *, ws: KasmWorkspace, client: KasmClient, keep: bool) -> None:
    """Stop (persistent, `keep`) or destroy the workspace's Kasm session; gone already is fine."""
    if ws.kasm_id:
        try:
            if keep:
                client.stop_kasm(kasm_id=ws.kasm_id, user_id=ws.kasm_user_id)
            else:
                client.destroy_kasm(kasm_id=ws.kasm_id, user_id=ws.kasm_user_id)
        except KasmNotFound:
            keep = False
        if not keep:
            ws.kasm_id = None
    if ws.status is WorkspaceStatus.STOPPING:
        _set_status(db, ws, WorkspaceStatus.STOPPED, ws.status_reason)
    db.add(ws)
    db.commit()


def converge(db: Session, *, tenant: TenantInfo, workspace_id: int, client: KasmClient) -> Next:
    """One step towards the workspace's wanted state. Safe to run any number of times."""
    ws = db.get(KasmWorkspace, workspace_id, with_for_update=True)
    if ws is None:
        return Next.DONE
    if ws.status in (WorkspaceStatus.PROVISIONING, WorkspaceStatus.STARTING):
        return _advance_start(db, tenant=tenant, ws=ws, client=client)
    if ws.status is WorkspaceStatus.STOPPING:
        template = existing(db, KasmTemplate, ws.template_id)
        _release(db, ws=ws, client=client, keep=template.persistent)
    elif ws.status in (WorkspaceStatus.TERMINATED, WorkspaceStatus.FAILED) and ws.kasm_id:
        _release(db, ws=ws, client=client, keep=False)
    return Next.DONE


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one converge step: what next, after how many seconds, and the failures so far."""

    next: Next
    delay: float = 0.0
    failures: int = 0


def converge_step(
    db: Session, *, tenant: TenantInfo, workspace_id: int, client: KasmClient, failures: int = 0
) -> Step:
    """`converge` with the retry policy: poll while Kasm starts the session, back off on
    transient errors, and give up (failed, cleaned up, alerted) after the configured attempts."""
    try:
        result = converge(db, tenant=tenant, workspace_id=workspace_id, client=client)
    except KasmTransientError as error:
        db.rollback()
        failures += 1
        if failures < get_settings().kasm_provision_attempts:
            log.warning("kasm workspace %s: %s (attempt %d)", workspace_id, error, failures)
            return Step(Next.RETRY, delay=min(300.0, 5.0 * 2 ** (failures - 1)), failures=failures)
        fail_workspace(db, tenant=tenant, workspace_id=workspace_id, reason=str(error), client=client)
        return Step(Next.DONE, failures=failures)
    except KasmError as error:
        db.rollback()
        fail_workspace(db, tenant=tenant, workspace_id=workspace_id, reason=str(error), client=client)
        return Step(Next.DONE, failures=failures)
    return Step(result, delay=2.0 if result is Next.POLL else 0.0, failures=failures)


def fail_workspace(
    db: Session, *, tenant: TenantInfo, workspace_id: int, reason: str, client: KasmClient
) -> None:
    """Give up on starting a workspace: clean up what Kasm holds, mark it failed, alert the admins."""
    ws = db.get(KasmWorkspace, workspace_id)
    if ws is None or ws.status not in (WorkspaceStatus.PROVISIONING, WorkspaceStatus.STARTING):
        return
    template = existing(db, KasmTemplate, ws.template_id)
    leftovers = [ws.kasm_id] if ws.kasm_id else []
    try:
        if ws.kasm_user_id:
            leftovers += _unattached(
                db, client=client, kasm_user_id=ws.kasm_user_id, image_id=template.image_id
            )
        for kasm_id in leftovers:
            with contextlib.suppress(KasmNotFound):
                client.destroy_kasm(kasm_id=kasm_id, user_id=ws.kasm_user_id)
        ws.kasm_id = None
    except KasmError as error:
        # Left for the reconciler, which destroys sessions of failed workspaces.
        log.warning("kasm cleanup of workspace %s failed: %s", workspace_id, error)
    _set_status(
        db, ws, WorkspaceStatus.FAILED, "We could not start this workspace. Our team has been notified."
    )
    service = existing(db, Service, ws.service_id)
    service.status = ServiceStatus.FAILED
    service.status_reason = ws.status_reason
    db.add(service)
    db.commit()
    raise_alert(
        AlertCategory.PROVISIONING,
        title="Kasm provisioning failed",
        message=f"Workspace {ws.id} (service {ws.service_id}) of tenant {tenant.slug} failed: {reason}",
        fields={"tenant": tenant.slug, "workspace": str(ws.id), "user": str(ws.user_id)},
    )
