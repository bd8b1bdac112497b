"""Kasm tasks: converge one workspace with Kasm, and the reconcile / keepalive / credit beats."""

import logging

from sqlmodel import Session

from ezscale.db import central_session
from ezscale.services.kasm.client import KasmClient, KasmError
from ezscale.services.kasm.sync import (
    credit_guard,
    fresh_listing,
    keepalive_due,
    reconcile,
    stop_suspended,
    stopping_workspaces,
)
from ezscale.services.kasm.workspaces import Next, converge_step
from ezscale.services.tenancy.tenants import TenantInfo, active_tenants, tenant_session
from ezscale.tasks.app import celery_app
from ezscale.tasks.tenant_task import enqueue_for_tenant, tenant_headers, tenant_task

log = logging.getLogger(__name__)


def schedule_converge(tenant_id: int, workspace_id: int, *, failures: int = 0, delay: float = 0.0) -> None:
    """Enqueue `converge_workspace` (after the caller's commit), optionally delayed."""
    converge_workspace.apply_async(
        args=(tenant_id, workspace_id, failures),
        countdown=delay or None,  # type: ignore[arg-type]  # None: no countdown (celery-types says float)
        headers=tenant_headers(tenant_id),
    )


@tenant_task(name="ezscale.tasks.kasm.converge_workspace")
def converge_workspace(session: Session, tenant: TenantInfo, workspace_id: int, failures: int = 0) -> str:
    """One step of provisioning / starting / stopping; re-enqueues itself while Kasm works."""
    with KasmClient.from_settings() as client:
        step = converge_step(
            session, tenant=tenant, workspace_id=workspace_id, client=client, failures=failures
        )
    if step.next is not Next.DONE:
        schedule_converge(tenant.id, workspace_id, failures=step.failures, delay=step.delay)
    return step.next.value


def _active_tenants() -> list[TenantInfo]:
    with central_session() as session:
        return active_tenants(session)


@celery_app.task(name="ezscale.tasks.kasm.reconcile_all")
def reconcile_all() -> int:
    """One `get_kasms` for the deployment, then every tenant's workspaces against it (renewed
    for a tenant that changed a workspace after it was taken)."""
    with KasmClient.from_settings() as client:
        try:
            listing = client.get_kasms()
        except KasmError as error:
            log.warning("kasm reconcile skipped: %s", error)
            return 0
        stopped = 0
        for tenant in _active_tenants():
            try:
                with tenant_session(tenant) as session:
                    try:
                        listing = fresh_listing(session, listing=listing, client=client)
                    except KasmError as error:
                        log.warning("kasm reconcile of %s skipped: %s", tenant.slug, error)
                        continue
                    stopped += len(
                        reconcile(session, tenant=tenant, listing=listing, client=client).stopped_outside
                    )
            except Exception:  # one broken tenant database must not stop the others
                log.exception("kasm reconcile failed for tenant %s", tenant.slug)
    return stopped


@celery_app.task(name="ezscale.tasks.kasm.guard_all")
def guard_all() -> None:
    """Fan out keepalive + credit guard to every tenant."""
    for tenant in _active_tenants():
        enqueue_for_tenant(guard_tenant, tenant.id)


@tenant_task(name="ezscale.tasks.kasm.guard_tenant")
def guard_tenant(session: Session, tenant: TenantInfo) -> int:
    """Keep running workspaces alive in Kasm, stop those out of credit or suspended, and queue a
    converge step for each stopping one; returns how many are stopping."""
    with KasmClient.from_settings() as client:
        keepalive_due(session, tenant=tenant, client=client)
    credit_guard(session, tenant=tenant)
    stop_suspended(session)
    stopping = stopping_workspaces(session)
    for workspace_id in stopping:
        schedule_converge(tenant.id, workspace_id)
    return len(stopping)
