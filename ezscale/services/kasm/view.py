"""What the customer's workspace dashboard shows, as plain display rows (no Reflex here).

A running workspace carries its session start, locked rate (in millionths) and currency digits,
so the browser ticks the timer and cost by itself with the same rule as `kasm_usage`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError
from ezscale.models.kasm import KasmNotice, KasmTemplate, KasmUsageSession, KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import Plan, Service, ServiceType, User
from ezscale.models.types import existing, row_id
from ezscale.money import SYMBOLS, Money, minor_digits, rate_text
from ezscale.services.billing.credits import balance_minor
from ezscale.services.fx.currencies import customer_currency
from ezscale.services.kasm.catalogue import TypeOption, ensure_catalogue, templates, workspace_types
from ezscale.services.kasm.ledger import history, live_usage, month_usage, workspace_rate
from ezscale.services.kasm.sync import active_notices
from ezscale.services.kasm.usage import rate_micro
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session


def duration_text(seconds: int) -> str:
    """A duration as "2h 05m", or "5m" under an hour."""
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m"


def running_text(seconds: int) -> str:
    """`Running for 2h 37m 05s` (the browser's ticker writes the same format)."""
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"Running for {hours}h {rest // 60:02d}m {rest % 60:02d}s"


@dataclass(frozen=True)
class WorkspaceRow:
    """One workspace on the customer's Kasm dashboard, formatted."""

    id: int
    title: str
    status: str
    reason: str
    size: str
    rate: str
    started_ms: int
    rate_micro: int
    digits: int
    symbol: str
    running: str
    cost: str
    persistent: bool


@dataclass(frozen=True)
class HistoryRow:
    """One past usage session, formatted."""

    id: int
    workspace: str
    started: str
    duration: str
    billable: str
    cost: str
    reason: str


@dataclass(frozen=True)
class Dashboard:
    """Everything the customer's Kasm dashboard shows."""

    workspaces: list[WorkspaceRow]
    history: list[HistoryRow]
    month: str
    balance: str
    notices: list[str]
    server_now_ms: int


def _ran_seconds(row: KasmUsageSession) -> int:
    """How long a finished usage session ran."""
    assert row.stopped_at is not None, "past sessions have stopped"
    return int((row.stopped_at - row.started_at).total_seconds())


def _money(minor: int, currency: str) -> str:
    return Money(minor, currency).format()


def _row(
    db: Session, ws: KasmWorkspace, *, plan: Plan, title: str, persistent: bool, now: datetime
) -> WorkspaceRow:
    live = live_usage(db, workspace_id=row_id(ws), now=now) if ws.status is WorkspaceStatus.RUNNING else None
    seconds = int((now - live.session_started_at).total_seconds()) if live else 0
    # The rate it runs at (locked for a running session), else what it costs this customer now.
    rate, currency = (live.rate, live.currency) if live else _customer_rate(db, plan, ws.user_id)
    return WorkspaceRow(
        id=row_id(ws),
        title=title,
        status=ws.status.value,
        reason=ws.status_reason,
        size=f"{ws.cores} vCPU · {ws.memory_mb // 1024} GB RAM",
        rate=rate_text(rate, currency),
        started_ms=int(live.session_started_at.timestamp() * 1000) if live else 0,
        rate_micro=rate_micro(live.rate) if live else 0,
        digits=minor_digits(currency),
        symbol=SYMBOLS.get(currency, ""),
        running=running_text(seconds) if live else "",
        cost=_money(live.cost_minor_now, live.currency) if live else "",
        persistent=persistent,
    )


def _customer_rate(db: Session, plan: Plan, user_id: int) -> tuple[Decimal, str]:
    """The plan's hourly rate in the customer's currency (the plan's own while no rate is known)."""
    try:
        price = workspace_rate(db, plan=plan, user_id=user_id)
    except DomainError:
        return plan.hourly_rate or Decimal(0), plan.currency
    return price.rate, price.currency


def _history(db: Session, *, user_id: int) -> list[HistoryRow]:
    names = {
        ws_id: label or ""
        for ws_id, label in db.exec(
            select(KasmWorkspace.id, Service.label)
            .join(Service, col(Service.id) == col(KasmWorkspace.service_id))
            .where(KasmWorkspace.user_id == user_id, Service.user_id == user_id)
        )
    }
    return [
        HistoryRow(
            id=row_id(row),
            workspace=names.get(row.workspace_id, ""),
            started=f"{row.started_at:%Y-%m-%d %H:%M}",
            duration=duration_text(_ran_seconds(row)),
            billable=duration_text(row.billable_seconds or 0),
            cost=_money(row.cost_minor or 0, row.currency),
            reason=row.end_reason,
        )
        for row in history(db, user_id=user_id)
    ]


def _month(db: Session, *, user_id: int, now: datetime, currency: str) -> str:
    month = month_usage(db, user_id=user_id, now=now, currency=currency)
    hours = month.billable_seconds / 3600
    return f"This month: {_money(month.cost_minor, currency)} · {hours:.2f} hours".replace(
        ".00 hours", " hours"
    )


def _notices(db: Session, *, user_id: int, now: datetime) -> list[str]:
    return [n.message for n in active_notices(db, user_id=user_id, since=now - timedelta(days=7))]


def dashboard(db: Session, *, user_id: int, now: datetime, currency: str) -> Dashboard:
    """The customer's Kasm dashboard: workspaces with live cost, usage history, balance and notices."""
    plans = {p.id: p for p in db.exec(select(Plan).where(Plan.service_type == ServiceType.KASM))}
    persistent = set(db.exec(select(KasmTemplate.id).where(KasmTemplate.persistent)).all())
    labels = dict(db.exec(select(Service.id, Service.label).where(Service.user_id == user_id)).all())
    query = (
        select(KasmWorkspace)
        .where(KasmWorkspace.user_id == user_id, KasmWorkspace.status != WorkspaceStatus.TERMINATED)
        .order_by(col(KasmWorkspace.id).desc())
    )
    rows = [
        _row(
            db,
            ws,
            plan=plans[ws.plan_id],
            title=labels.get(ws.service_id, plans[ws.plan_id].name),
            persistent=ws.template_id in persistent,
            now=now,
        )
        for ws in db.exec(query)
    ]
    return Dashboard(
        workspaces=rows,
        history=_history(db, user_id=user_id),
        month=_month(db, user_id=user_id, now=now, currency=currency),
        balance=_money(balance_minor(db, user_id=user_id, currency=currency), currency),
        notices=_notices(db, user_id=user_id, now=now),
        server_now_ms=int(now.timestamp() * 1000),
    )


@dataclass(frozen=True)
class Patch:
    """What one signalled change alters on a customer's dashboard; None leaves a part as it is.

    `workspace_id` names the workspace whose `row` replaces its old one (`row` None: it is gone
    from the dashboard, terminated or not this customer's)."""

    server_now_ms: int
    workspace_id: int = 0
    row: WorkspaceRow | None = None
    history: list[HistoryRow] | None = None
    month: str | None = None
    balance: str | None = None
    notices: list[str] | None = None


def patch(db: Session, *, user_id: int, key: str, now: datetime, currency: str) -> Patch:
    """Re-read only what the change with row key `key` (`w<workspace id>`, `n<notice id>`) alters:
    the notices; or that one workspace's row, plus history, month and balance once it is no longer
    running (its usage session has just closed and been charged)."""
    now_ms = int(now.timestamp() * 1000)
    if key.startswith("n"):
        return Patch(now_ms, notices=_notices(db, user_id=user_id, now=now))
    workspace_id = int(key[1:])
    ws = db.exec(
        select(KasmWorkspace).where(KasmWorkspace.id == workspace_id, KasmWorkspace.user_id == user_id)
    ).first()
    row = None
    if ws is not None and ws.status is not WorkspaceStatus.TERMINATED:
        plan = existing(db, Plan, ws.plan_id)
        service = db.get(Service, ws.service_id)
        template = db.get(KasmTemplate, ws.template_id)
        title = service.label if service is not None and service.user_id == user_id else plan.name
        persistent = bool(template and template.persistent)
        row = _row(db, ws, plan=plan, title=title, persistent=persistent, now=now)
    if row is not None and ws is not None and ws.status is WorkspaceStatus.RUNNING:
        return Patch(now_ms, workspace_id=workspace_id, row=row)
    return Patch(
        now_ms,
        workspace_id=workspace_id,
        row=row,
        history=_history(db, user_id=user_id),
        month=_month(db, user_id=user_id, now=now, currency=currency),
        balance=_money(balance_minor(db, user_id=user_id, currency=currency), currency),
    )


def patched_rows(rows: list[WorkspaceRow], update: Patch) -> list[WorkspaceRow]:
    """The dashboard's workspace rows with the patched one replaced, added or removed (newest
    first, as `dashboard` orders them)."""
    kept = [row for row in rows if row.id != update.workspace_id]
    if update.row is not None:
        kept.append(update.row)
    return sorted(kept, key=lambda row: row.id, reverse=True)


def load_view(tenant: TenantInfo, user_id: int) -> Dashboard:
    """The dashboard of one customer, now (its own session: callable from a thread)."""
    with tenant_session(tenant) as db:
        currency = customer_currency(db, existing(db, User, user_id))
        return dashboard(db, user_id=user_id, now=clock.now(), currency=currency)


def load_patch(tenant: TenantInfo, user_id: int, key: str) -> Patch:
    """`patch` for one customer, now (its own session: callable from a thread)."""
    with tenant_session(tenant) as db:
        currency = customer_currency(db, existing(db, User, user_id))
        return patch(db, user_id=user_id, key=key, now=clock.now(), currency=currency)


@dataclass(frozen=True)
class Option:
    """One choice in a select box of the order form."""

    value: str
    label: str


def order_options(db: Session, *, user_id: int | None = None) -> tuple[list[Option], list[Option]]:
    """Workspace types (with their hourly price, in the customer's currency when `user_id` is
    given) and active templates, for the order form.

    Tenants created after this domain shipped get the default templates on first use."""
    ensure_catalogue(db)

    def price(t: TypeOption) -> str:
        if user_id is None:
            return rate_text(t.rate, t.currency)
        return rate_text(*_customer_rate(db, existing(db, Plan, t.plan_id), user_id))

    types = [Option(str(t.plan_id), f"{t.name} — {price(t)} · {t.description}") for t in workspace_types(db)]
    tpls = [Option(str(t.id), f"{t.name} ({t.apps})" if t.apps else t.name) for t in templates(db)]
    return types, tpls


def type_for_code(db: Session, code: str) -> str:
    """The order form's value of the active workspace type with plan code `code` ("" if none):
    the storefront's Launch link carries the plan the visitor picked."""
    plan_id = db.exec(
        select(Plan.id).where(Plan.code == code, Plan.service_type == ServiceType.KASM, Plan.active)
    ).first()
    return "" if plan_id is None else str(plan_id)


def recently_changed(db: Session, *, user_ids: set[int], since: datetime) -> list[tuple[str, int, datetime]]:
    """(key, user id, time) of the given customers' workspaces changed and notices added since
    `since` (index range scans; the few rows they find are filtered here)."""
    workspaces = db.exec(
        select(KasmWorkspace.id, KasmWorkspace.user_id, KasmWorkspace.changed_at).where(
            KasmWorkspace.changed_at >= since
        )
    ).all()
    notices = db.exec(
        select(KasmNotice.id, KasmNotice.user_id, KasmNotice.created_at).where(KasmNotice.created_at >= since)
    ).all()
    rows = [(f"w{i}", user, at) for i, user, at in workspaces] + [
        (f"n{i}", user, at) for i, user, at in notices
    ]
    return [row for row in rows if row[1] in user_ids]
