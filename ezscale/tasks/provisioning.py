"""Provisioning tasks on the `critical` queue: run one job step, re-enqueue it while the panel
works, and a beat sweep that runs any job whose message was lost (or whose worker died)."""

import logging

from sqlmodel import Session

from ezscale.db import central_session
from ezscale.services.provisioning import jobs
from ezscale.services.tenancy.tenants import TenantInfo, active_tenants, tenant_id_of_database, tenant_session
from ezscale.tasks.app import celery_app
from ezscale.tasks.tenant_task import tenant_headers, tenant_task

log = logging.getLogger(__name__)

QUEUE = "critical"


def _tenant_id(database: str) -> int:
    with central_session() as central:
        return tenant_id_of_database(central, database)


def enqueue(database: str, job_id: int, *, tenant_id: int | None = None) -> None:
    """Send a job of the tenant whose database is `database` (its id, when the caller knows it,
    spares a central look-up) to the worker."""
    schedule_run(_tenant_id(database) if tenant_id is None else tenant_id, job_id)


def schedule_run(tenant_id: int, job_id: int, *, countdown: float = 0.0) -> None:
    """Send `run_job` (routed to the critical queue), optionally delayed."""
    run_job.apply_async(
        args=(tenant_id, job_id),
        countdown=countdown or None,  # type: ignore[arg-type]  # None: no countdown (celery-types says float)
        headers=tenant_headers(tenant_id),
    )


@tenant_task(name="ezscale.tasks.provisioning.run_job")
def run_job(session: Session, tenant: TenantInfo, job_id: int) -> str:
    """One step of a provisioning or lifecycle job; re-enqueued while it waits for the panel."""
    result = jobs.run_job(session, tenant=tenant, job_id=job_id)
    if result.again_in is not None:
        schedule_run(tenant.id, job_id, countdown=result.again_in)
    return result.status


@celery_app.task(name="ezscale.tasks.provisioning.sweep")
def sweep() -> int:
    """Enqueue every tenant's due jobs (a lost message, a dead worker's lease); returns how many."""
    with central_session() as central:
        tenants = active_tenants(central)
    sent = 0
    for tenant in tenants:
        try:
            with tenant_session(tenant) as session:
                due = jobs.due_job_ids(session)
        except Exception:  # one broken tenant database must not stop the others
            log.exception("provisioning sweep failed for tenant %s", tenant.slug)
            continue
        for job_id in due:
            schedule_run(tenant.id, job_id)
            sent += 1
    return sent
