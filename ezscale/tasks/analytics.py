"""Nightly analytics snapshots: yesterday's figures for every tenant and the platform."""

from datetime import date, timedelta

from ezscale import clock
from ezscale.db import central_session
from ezscale.services.analytics.snapshots import snapshot_days
from ezscale.tasks.app import celery_app


@celery_app.task(name="ezscale.tasks.analytics.snapshot_day")
def snapshot_day(day: str | None = None) -> dict:
    """Recompute one day (ISO date; default yesterday). Idempotent: the day's rows are replaced."""
    target = date.fromisoformat(day) if day else clock.now().date() - timedelta(days=1)
    with central_session() as central:
        report = snapshot_days(central, start=target, end=target)
    return {
        "day": target.isoformat(),
        "tenants": report.tenants,
        "rows": report.rows,
        "failed": report.failed,
    }
