"""Daily analytics snapshots in the central database: per tenant, then platform-wide.

Recomputing a day replaces its rows (one per scope, currency and day: a unique constraint), so
the nightly task, a retry and a manual backfill all leave the same rows behind.
"""

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from ezscale import clock
from ezscale.models.analytics import PLATFORM_SCOPE, AnalyticsDay, tenant_scope
from ezscale.services.analytics.metrics import DayFigures, compute_days
from ezscale.services.tenancy.tenants import TenantInfo, active_tenants, tenant_session

log = logging.getLogger(__name__)

_PLACES = Decimal("0.000001")
_SUMMED = [name for name in DayFigures.__dataclass_fields__ if name not in ("day", "plans")]


@dataclass
class SnapshotReport:
    """What a snapshot run computed: the days and how many tenants."""

    start: date
    end: date
    tenants: int = 0
    rows: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def reporting_tenants(session: Session) -> list[TenantInfo]:
    """Tenants whose databases hold customer data (deleted ones are gone)."""
    return active_tenants(session, include_suspended=True)


def _store(
    central: Session, *, scope: str, tenant_id: int | None, currency: str, figures: list[DayFigures]
) -> None:
    existing = {
        row.day: row
        for row in central.exec(
            select(AnalyticsDay).where(
                AnalyticsDay.scope == scope,
                AnalyticsDay.currency == currency,
                AnalyticsDay.day >= figures[0].day,
                AnalyticsDay.day <= figures[-1].day,
            )
        )
    }
    now = clock.now()
    for day in figures:
        values = asdict(day)
        for name, value in values.items():
            if isinstance(value, Decimal):
                values[name] = value.quantize(_PLACES)
        row = existing.get(day.day) or AnalyticsDay(
            scope=scope, tenant_id=tenant_id, currency=currency, day=day.day
        )
        for name, value in values.items():
            setattr(row, name, value)
        row.computed_at = now
        central.add(row)
    central.commit()


def snapshot_tenant(central: Session, *, tenant: TenantInfo, start: date, end: date) -> int:
    """Recompute one tenant's rows for the days `start`..`end`; returns the number of days."""
    with tenant_session(tenant) as session:
        figures = compute_days(session, start=start, end=end)
    _store(
        central, scope=tenant_scope(tenant.id), tenant_id=tenant.id, currency=tenant.currency, figures=figures
    )
    return len(figures)


def snapshot_platform(central: Session, *, start: date, end: date) -> int:
    """Platform rows = the sum of the tenants' rows of each day, per currency."""
    rows = central.exec(
        select(AnalyticsDay).where(
            AnalyticsDay.scope != PLATFORM_SCOPE, AnalyticsDay.day >= start, AnalyticsDay.day <= end
        )
    ).all()
    totals: dict[str, dict[date, DayFigures]] = {}
    for row in rows:
        figures = totals.setdefault(row.currency, {}).setdefault(row.day, DayFigures(row.day))
        for name in _SUMMED:
            setattr(figures, name, getattr(figures, name) + getattr(row, name))
        for code, plan in row.plans.items():
            merged = figures.plans.setdefault(code, {"name": plan["name"], "active": 0})
            merged["active"] += plan["active"]
    count = 0
    for currency, by_day in totals.items():
        days = [
            by_day.get(start + timedelta(n)) or DayFigures(start + timedelta(n))
            for n in range((end - start).days + 1)
        ]
        _store(central, scope=PLATFORM_SCOPE, tenant_id=None, currency=currency, figures=days)
        count += len(days)
    return count


def snapshot_days(central: Session, *, start: date, end: date) -> SnapshotReport:
    """Every tenant, then the platform. A failing tenant is reported and the others go on."""
    report = SnapshotReport(start=start, end=end)
    for tenant in reporting_tenants(central):
        try:
            report.rows += snapshot_tenant(central, tenant=tenant, start=start, end=end)
            report.tenants += 1
        except Exception as error:  # one broken tenant database must not stop the others
            central.rollback()
            log.exception("analytics snapshot failed for %s", tenant.slug)
            report.failed[tenant.slug] = str(error)[:200]
    report.rows += snapshot_platform(central, start=start, end=end)
    return report
