"""Keeping EZSCALE and Kasm in step: reconcile, keepalive, and the credit guard.

Reconcile works from one `get_kasms` listing for the whole Kasm deployment. A workspace we
think runs but Kasm no longer runs is closed at the time Kasm reports (its expiration when it
expired, else Kasm's `current_time`); usage sessions are keyed by `kasm_id` + `start_date`, so
reconciling again never closes or opens anything twice.

A listing is a snapshot: a workspace started or resumed after it was taken is missing from it
or shown stopped, so it is closed only by a listing taken after its last start, and each
tenant's pass first renews a listing older than that tenant's latest workspace change.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.kasm import (
    KasmAccount,
    KasmNotice,
    KasmTemplate,
    KasmUsageSession,
    KasmWorkspace,
    NoticeKind,
    WorkspaceStatus,
)
from ezscale.models.tenant import Service, ServiceStatus, User
from ezscale.models.types import existing, pk, row_id
from ezscale.money import Money, minor_digits
from ezscale.services.kasm.client import RUNNING, KasmClient, KasmError, KasmList, KasmNotFound, KasmSession
from ezscale.services.kasm.credit import available_credit_minor, has_saved_payment_method
from ezscale.services.kasm.ledger import close_usage, split_at_boundaries
from ezscale.services.kasm.mail import send_customer_mail
from ezscale.services.kasm.usage import next_period_start
from ezscale.services.kasm.workspaces import stop_workspace
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings

log = logging.getLogger(__name__)

ORPHAN_GRACE = timedelta(minutes=10)


@dataclass
class ReconcileResult:
    """What one reconcile pass found and did, for the task result and logs."""

    checked: int = 0
    stopped_outside: list[int] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    split: int = 0


def _destroy(client: KasmClient, kasm_id: str, user_id: str, result: ReconcileResult) -> None:
    try:
        client.destroy_kasm(kasm_id=kasm_id, user_id=user_id)
        result.destroyed.append(kasm_id)
    except KasmNotFound:
        pass
    except KasmError as error:
        log.warning("kasm reconcile: destroying %s failed: %s", kasm_id, error)


def fresh_listing(db: Session, *, listing: KasmList, client: KasmClient) -> KasmList:
    """`listing`, or a new one if this tenant changed a workspace since it was taken."""
    latest = db.exec(select(func.max(KasmWorkspace.changed_at))).one()
    if latest is not None and (listing.taken_at is None or latest >= listing.taken_at):
        return client.get_kasms()
    return listing


def _listed_after_start(ws: KasmWorkspace, listing: KasmList) -> bool:
    """Whether the listing can tell that the workspace stopped: it was taken after the start."""
    if listing.taken_at is None:
        return False
    return ws.last_started_at is None or listing.taken_at > ws.last_started_at


def reconcile(db: Session, *, tenant: TenantInfo, listing: KasmList, client: KasmClient) -> ReconcileResult:
    """Bring this tenant's workspaces in line with a `get_kasms` listing."""
    now = listing.current_time or clock.now()
    by_id = {k.kasm_id: k for k in listing.kasms}
    result = ReconcileResult()
    persistent = set(db.exec(select(KasmTemplate.id).where(KasmTemplate.persistent)).all())
    open_rows = {
        row.workspace_id: row
        for row in db.exec(select(KasmUsageSession).where(col(KasmUsageSession.stopped_at).is_(None)))
    }
    tracked = db.exec(
        select(KasmWorkspace).where(
            (col(KasmWorkspace.status) == WorkspaceStatus.RUNNING) | col(KasmWorkspace.kasm_id).is_not(None)
        )
    ).all()
    for ws in tracked:
        result.checked += 1
        kasm = by_id.get(ws.kasm_id) if ws.kasm_id else None
        if ws.status is WorkspaceStatus.RUNNING:
            _reconcile_running(
                db,
                ws=ws,
                kasm=kasm,
                listing=listing,
                now=now,
                client=client,
                result=result,
                persistent=persistent,
                open_row=open_rows.get(row_id(ws)),
            )
        elif ws.status in (WorkspaceStatus.STOPPED, WorkspaceStatus.FAILED, WorkspaceStatus.TERMINATED):
            if kasm is None:
                ws.kasm_id = None
                db.add(ws)
            elif not (ws.status is WorkspaceStatus.STOPPED and ws.template_id in persistent):
                _destroy(client, kasm.kasm_id, kasm.user_id, result)
    db.commit()
    _destroy_orphans(db, listing=listing, now=now, client=client, result=result)
    return result


def _reconcile_running(
    db: Session,
    *,
    ws: KasmWorkspace,
    kasm: KasmSession | None,
    listing: KasmList,
    now: datetime,
    client: KasmClient,
    result: ReconcileResult,
    persistent: set[int | None],
    open_row: KasmUsageSession | None,
) -> None:
    """Reconcile one workspace the app thinks is running: keep its usage periods and expiry current
    while Kasm runs it, or record that it stopped outside the app."""
    if kasm is not None and kasm.operational_status in (RUNNING, "starting"):
        if open_row is not None and next_period_start(open_row.started_at) <= now:
            split_at_boundaries(db, open_row, until=now)
            result.split += 1
        if kasm.expiration_date and kasm.expiration_date != ws.kasm_expires_at:
            ws.kasm_expires_at = kasm.expiration_date
            db.add(ws)
        return
    if not _listed_after_start(ws, listing):
        return  # started or resumed after the listing: the next pass looks again
    ended = now
    if kasm is None and ws.kasm_expires_at and ws.kasm_expires_at <= now:
        ended = ws.kasm_expires_at
    close_usage(db, ws=ws, at=ended, reason="Ended in Kasm")
    ws.status = WorkspaceStatus.STOPPED
    ws.status_reason = "The workspace was stopped outside the app."
    ws.last_stopped_at = ended
    ws.changed_at = clock.now()
    keep = (
        kasm is not None and kasm.operational_status in ("stopped", "paused") and ws.template_id in persistent
    )
    if not keep:
        if kasm is not None:
            _destroy(client, kasm.kasm_id, kasm.user_id, result)
        ws.kasm_id = None
    db.add(ws)
    result.stopped_outside.append(row_id(ws))


def _destroy_orphans(
    db: Session, *, listing: KasmList, now: datetime, client: KasmClient, result: ReconcileResult
) -> None:
    """Destroy sessions of this tenant's Kasm users that no workspace owns (after a grace period,
    so a request whose reply is still on its way is not taken for an orphan)."""
    ours = set(db.exec(select(KasmAccount.kasm_user_id)).all())
    attached = set(
        db.exec(select(KasmWorkspace.kasm_id).where(col(KasmWorkspace.kasm_id).is_not(None))).all()
    )
    for kasm in listing.kasms:
        old = kasm.start_date is None or now - kasm.start_date >= ORPHAN_GRACE
        if kasm.user_id in ours and kasm.kasm_id not in attached and old:
            _destroy(client, kasm.kasm_id, kasm.user_id, result)


def keepalive_due(db: Session, *, tenant: TenantInfo, client: KasmClient) -> int:
    """Send `keepalive` for running workspaces not kept alive for a while; returns how many."""
    now = clock.now()
    due_before = now - timedelta(seconds=get_settings().kasm_keepalive_seconds)
    sent = 0
    for ws in db.exec(
        select(KasmWorkspace).where(
            KasmWorkspace.status == WorkspaceStatus.RUNNING,
            (col(KasmWorkspace.keepalive_at).is_(None)) | (col(KasmWorkspace.keepalive_at) <= due_before),
        )
    ).all():
        if ws.kasm_id is None:  # running without a Kasm session: reconcile repairs it
            continue
        try:
            reached = client.keepalive(kasm_id=ws.kasm_id)
        except KasmError as error:
            log.info("keepalive of workspace %s failed: %s (reconcile will check it)", ws.id, error)
            continue
        sent += 1
        ws.keepalive_at = now
        db.add(ws)
        db.commit()
        if reached:
            stop_workspace(db, user_id=None, workspace_id=row_id(ws), reason="Kasm usage limit reached")
            add_notice(
                db,
                tenant=tenant,
                user_id=ws.user_id,
                kind=NoticeKind.USAGE_LIMIT,
                key=f"limit:{ws.id}:{now:%Y%m%d%H%M%S}",
                message="A workspace was stopped because it reached its usage limit.",
            )
    return sent


def stop_suspended(db: Session) -> list[int]:
    """Stop running workspaces whose service dunning suspended (billing stops at this moment)."""
    running = db.exec(
        select(pk(KasmWorkspace.id))
        .join(Service, col(Service.id) == col(KasmWorkspace.service_id))
        .where(
            col(KasmWorkspace.status) == WorkspaceStatus.RUNNING,
            col(Service.status) == ServiceStatus.SUSPENDED,
        )
    ).all()
    for workspace_id in running:
        stop_workspace(db, user_id=None, workspace_id=workspace_id, reason="Suspended: invoice overdue")
    return list(running)


def stopping_workspaces(db: Session) -> list[int]:
    """Workspaces stopped in EZSCALE whose Kasm session still has to be released."""
    return list(
        db.exec(select(pk(KasmWorkspace.id)).where(KasmWorkspace.status == WorkspaceStatus.STOPPING)).all()
    )


def add_notice(
    db: Session, *, tenant: TenantInfo, user_id: int, kind: NoticeKind, key: str, message: str
) -> bool:
    """Record a notice once per `key`, and email it; returns False if it existed already."""
    if db.exec(select(KasmNotice.id).where(KasmNotice.key == key)).first() is not None:
        return False
    db.add(KasmNotice(user_id=user_id, kind=kind, key=key, message=message, created_at=clock.now()))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return False
    user = existing(db, User, user_id)
    subject = (
        "Your workspace was stopped"
        if kind is not NoticeKind.LOW_BALANCE
        else "Your account credit is running low"
    )
    send_customer_mail(tenant, to=user.email, subject=subject, text=message, kind=f"kasm_{kind.value}")
    return True


def active_notices(db: Session, *, user_id: int, since: datetime) -> list[KasmNotice]:
    """The customer's undismissed Kasm notices (credit warnings, stops) since a time, newest first.

    A low-credit warning holds only while a workspace is running and no card is on file: once
    nothing runs, or a card will pay, it no longer applies."""
    query = select(KasmNotice).where(
        KasmNotice.user_id == user_id,
        KasmNotice.created_at >= since,
        col(KasmNotice.dismissed_at).is_(None),
    )
    running = db.exec(
        select(KasmUsageSession.id).where(
            KasmUsageSession.user_id == user_id, col(KasmUsageSession.stopped_at).is_(None)
        )
    ).first()
    if running is None or has_saved_payment_method(db, user_id=user_id):
        query = query.where(KasmNotice.kind != NoticeKind.LOW_BALANCE)
    return list(db.exec(query.order_by(col(KasmNotice.created_at).desc())))


@dataclass(frozen=True, slots=True)
class CreditCheck:
    """One customer's credit check: what is left, how fast it burns, and what was done."""

    user_id: int
    available_minor: int
    burn_per_hour: Decimal
    warned: bool
    stopped: list[int]


def credit_guard(db: Session, *, tenant: TenantInfo) -> list[CreditCheck]:
    """Warn prepaid customers (no card) whose running workspaces will use up their credit within
    the configured hours; stop their workspaces once it has run out. A card on file pays instead."""
    now = clock.now()
    hours = get_settings().kasm_low_balance_hours
    burning: dict[int, Decimal] = {}
    # Sessions run in the customer's currency (the one they are billed in).
    currencies: dict[int, str] = {}
    for user_id, rate, currency in db.exec(
        select(
            col(KasmUsageSession.user_id), col(KasmUsageSession.rate), col(KasmUsageSession.currency)
        ).where(col(KasmUsageSession.stopped_at).is_(None))
    ):
        burning[user_id] = burning.get(user_id, Decimal(0)) + rate
        currencies[user_id] = currency
    checks = []
    for user_id, rate in burning.items():
        currency = currencies[user_id]
        available = available_credit_minor(db, user_id=user_id, currency=currency, now=now)
        stopped: list[int] = []
        warned = False
        if has_saved_payment_method(db, user_id=user_id):
            pass  # a card pays what credit does not cover: no warning and no stop
        elif available <= 0:
            running = db.exec(
                select(pk(KasmWorkspace.id)).where(
                    KasmWorkspace.user_id == user_id, KasmWorkspace.status == WorkspaceStatus.RUNNING
                )
            ).all()
            for workspace_id in running:
                stop_workspace(
                    db, user_id=None, workspace_id=workspace_id, reason="Stopped: account credit used up"
                )
                stopped.append(workspace_id)
            add_notice(
                db,
                tenant=tenant,
                user_id=user_id,
                kind=NoticeKind.AUTO_STOPPED,
                key=f"auto:{user_id}:{now:%Y%m%d%H%M%S}",
                message="Your account credit is used up, so your running workspaces were stopped. "
                "Add credit or a payment method to start them again.",
            )
        elif available < rate * hours * 10 ** minor_digits(currency):
            left = Money(max(available, 0), currency).format()
            warned = add_notice(
                db,
                tenant=tenant,
                user_id=user_id,
                kind=NoticeKind.LOW_BALANCE,
                key=f"low:{user_id}:{now:%Y%m%d}",
                message=f"Your account credit ({left} left) will run out within {hours} hours "
                "at your current workspace usage. Add credit to keep your workspaces running.",
            )
        checks.append(CreditCheck(user_id, available, rate, warned, stopped))
    return checks
