"""The provisioning log: one row per step of a job on a service (create, adopt, poll, suspend...)."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.provisioning import LogOutcome, ProvisioningLog


@dataclass(frozen=True, slots=True)
class LogRow:
    """One log row as the admin page shows it."""

    at: str
    step: str
    outcome: str
    message: str
    attempt: int


def record(
    db: Session,
    *,
    service_id: int,
    step: str,
    outcome: LogOutcome = LogOutcome.OK,
    message: str = "",
    attempt: int = 1,
    job_id: int | None = None,
) -> ProvisioningLog:
    """Add a log row (not committed: it commits with the step it describes)."""
    row = ProvisioningLog(
        service_id=service_id,
        job_id=job_id,
        step=step[:40],
        outcome=outcome,
        message=message[:500],
        attempt=attempt,
        at=clock.now(),
    )
    db.add(row)
    return row


def service_log(db: Session, *, service_id: int, limit: int = 200) -> list[LogRow]:
    """A service's provisioning log, newest first."""
    rows = db.exec(
        select(ProvisioningLog)
        .where(ProvisioningLog.service_id == service_id)
        .order_by(col(ProvisioningLog.at).desc(), col(ProvisioningLog.id).desc())
        .limit(limit)
    )
    return [LogRow(f"{r.at:%Y-%m-%d %H:%M:%S}", r.step, r.outcome.value, r.message, r.attempt) for r in rows]
