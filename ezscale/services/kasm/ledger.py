"""Usage sessions of Kasm workspaces: opened and closed at the moment of each action, split at
billing-period boundaries, and recorded as usage charges for the monthly invoice run."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, func, select

from ezscale.models.kasm import KasmUsageSession, KasmWorkspace
from ezscale.models.tenant import Plan, User
from ezscale.models.types import existing, row_id
from ezscale.services.billing.usage_charges import record_usage_charge
from ezscale.services.fx.currencies import customer_currency
from ezscale.services.fx.pricing import HourlyPricing, hourly_pricing
from ezscale.services.kasm.usage import (
    next_period_start,
    period_start,
    segment_cost,
    session_cost,
)


def open_usage(
    db: Session, *, ws: KasmWorkspace, at: datetime, kasm_start_date: datetime
) -> KasmUsageSession:
    """Open a usage session at `at` with the type's current rate (locked for the session).

    Idempotent: a workspace with an open session keeps it.
    """
    current = current_usage(db, workspace_id=row_id(ws))
    if current is not None:
        return current
    if ws.kasm_id is None:
        raise RuntimeError(f"workspace {ws.id} is running without a Kasm session")
    plan = existing(db, Plan, ws.plan_id)
    price = workspace_rate(db, plan=plan, user_id=ws.user_id)
    last = db.exec(
        select(func.max(KasmUsageSession.segment)).where(
            KasmUsageSession.kasm_id == ws.kasm_id, KasmUsageSession.kasm_start_date == kasm_start_date
        )
    ).one()
    row = KasmUsageSession(
        workspace_id=row_id(ws),
        user_id=ws.user_id,
        kasm_id=ws.kasm_id,
        kasm_start_date=kasm_start_date,
        segment=0 if last is None else last + 1,
        session_started_at=at,
        started_at=at,
        rate=price.rate,
        currency=price.currency,
    )
    db.add(row)
    return row


def workspace_rate(db: Session, *, plan: Plan, user_id: int) -> HourlyPricing:
    """The hourly rate the customer pays for `plan`, in the customer's currency (a fixed rate in
    it, else the plan's converted at today's rate)."""
    return hourly_pricing(db, plan, currency=customer_currency(db, existing(db, User, user_id)))


def current_usage(db: Session, *, workspace_id: int) -> KasmUsageSession | None:
    """The workspace's open usage row (no stop time yet), if it is running."""
    return db.exec(
        select(KasmUsageSession).where(
            KasmUsageSession.workspace_id == workspace_id, col(KasmUsageSession.stopped_at).is_(None)
        )
    ).first()


def _close_segment(db: Session, row: KasmUsageSession, *, at: datetime, final: bool, reason: str) -> None:
    result = segment_cost(
        session_start=row.session_started_at,
        segment_start=row.started_at,
        segment_end=at,
        final=final,
        rate=row.rate,
        currency=row.currency,
    )
    row.stopped_at = at
    row.billable_seconds = result.billable_seconds
    row.cost_minor = result.amount_minor
    row.end_reason = reason[:120]
    db.add(row)
    if result.amount_minor == 0:
        return  # e.g. a 1-second segment at a month end: the next segment's cost covers it
    ws = existing(db, KasmWorkspace, row.workspace_id)
    plan = existing(db, Plan, ws.plan_id)
    minutes = result.billable_seconds // 60
    record_usage_charge(
        db,
        user_id=row.user_id,
        service_id=ws.service_id,
        description=f"{plan.name} workspace, {row.started_at:%Y-%m-%d %H:%M} UTC, {minutes} min",
        quantity=(Decimal(result.billable_seconds) / 3600).quantize(Decimal("0.000001")),
        unit_rate=row.rate,
        amount_minor=result.amount_minor,
        currency=row.currency,
        period_start=row.started_at,
        period_end=at,
        source_key=f"kasm:{row.kasm_id}:{row.kasm_start_date:%Y%m%dT%H%M%S%f}:{row.segment}",
    )


def split_at_boundaries(db: Session, row: KasmUsageSession, *, until: datetime) -> KasmUsageSession:
    """Close the open segment at each period boundary before `until`; returns the open segment."""
    while next_period_start(row.started_at) <= until:
        boundary = next_period_start(row.started_at)
        _close_segment(db, row, at=boundary, final=False, reason="billing period boundary")
        row = KasmUsageSession(
            workspace_id=row.workspace_id,
            user_id=row.user_id,
            kasm_id=row.kasm_id,
            kasm_start_date=row.kasm_start_date,
            segment=row.segment + 1,
            session_started_at=row.session_started_at,
            started_at=boundary,
            rate=row.rate,
            currency=row.currency,
        )
        db.add(row)
        db.flush()
    return row


def close_usage(db: Session, *, ws: KasmWorkspace, at: datetime, reason: str) -> KasmUsageSession | None:
    """Close the workspace's open usage session at `at` (split first if it crossed a boundary)
    and record its charges. Caller commits; closing twice does nothing."""
    row = current_usage(db, workspace_id=row_id(ws))
    if row is None:
        return None
    at = max(at, row.started_at)
    row = split_at_boundaries(db, row, until=at)
    _close_segment(db, row, at=at, final=True, reason=reason)
    return row


@dataclass(frozen=True, slots=True)
class LiveUsage:
    """What a dashboard needs to tick a running session's timer and cost by itself."""

    session_started_at: datetime
    rate: Decimal
    currency: str
    cost_minor_now: int


def live_usage(db: Session, *, workspace_id: int, now: datetime) -> LiveUsage | None:
    """The running session's duration and cost so far, for the live dashboard."""
    row = current_usage(db, workspace_id=workspace_id)
    if row is None:
        return None
    cost = session_cost(start=row.session_started_at, end=now, rate=row.rate, currency=row.currency)
    return LiveUsage(row.session_started_at, row.rate, row.currency, cost.amount_minor)


@dataclass(frozen=True, slots=True)
class MonthUsage:
    """A customer's Kasm usage and cost in one calendar month."""

    cost_minor: int
    billable_seconds: int
    currency: str


def month_usage(db: Session, *, user_id: int, now: datetime, currency: str) -> MonthUsage:
    """Closed usage of the current period (running sessions tick on the page)."""
    cost, seconds = db.exec(
        select(
            func.coalesce(func.sum(KasmUsageSession.cost_minor), 0),
            func.coalesce(func.sum(KasmUsageSession.billable_seconds), 0),
        ).where(
            KasmUsageSession.user_id == user_id,
            KasmUsageSession.started_at >= period_start(now),
            col(KasmUsageSession.stopped_at).is_not(None),
        )
    ).one()
    return MonthUsage(int(cost or 0), int(seconds or 0), currency)


def history(db: Session, *, user_id: int, limit: int = 50) -> list[KasmUsageSession]:
    """The customer's usage sessions, newest first."""
    return list(
        db.exec(
            select(KasmUsageSession)
            .where(KasmUsageSession.user_id == user_id, col(KasmUsageSession.stopped_at).is_not(None))
            .order_by(col(KasmUsageSession.started_at).desc(), col(KasmUsageSession.id).desc())
            .limit(limit)
        )
    )
