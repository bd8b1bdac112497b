"""Tenant-scoped tasks: the tenant id travels with the message and picks the database.

A task made with `@tenant_task` takes `tenant_id` as its first argument and receives a session
on that tenant's own database. `enqueue_for_tenant` also stamps the id into a message header;
a worker refuses a message whose header and argument disagree, so a task can never run
against another tenant's database.
"""

import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from celery.result import AsyncResult

from ezscale.errors import DomainError
from ezscale.models.central import TenantStatus
from ezscale.services.tenancy.tenants import tenant_info, tenant_session
from ezscale.tasks.app import celery_app
from ezscale.tenant_context import current_tenant

log = logging.getLogger(__name__)

TENANT_HEADER = "ezscale_tenant_id"


def tenant_headers(tenant_id: int) -> dict[str, Any]:
    """The message headers of a tenant task (the id stays an int: the worker compares it with the
    argument; celery-types declares headers as strings only)."""
    return {TENANT_HEADER: tenant_id}


class TenantMismatch(DomainError):
    """A message's tenant header names another tenant than its argument: refused, never run."""


# Task arguments are whatever the wrapped function takes, so they stay `Any` here.
def tenant_task(
    fn: Callable[..., Any] | None = None,
    **options: Any,  # noqa: ANN401 (Celery task options)
) -> Task | Callable[[Callable[..., Any]], Task]:
    """Register `fn(session, tenant, *args)` as a Celery task called as `task(tenant_id, *args)`."""

    def register(func: Callable[..., Any]) -> Task:
        name = options.pop("name", f"{func.__module__}.{func.__name__}")

        @celery_app.task(name=name, bind=True, **options)
        def run(self: Task, tenant_id: int, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            stamped = (self.request.headers or {}).get(TENANT_HEADER) or getattr(
                self.request, TENANT_HEADER, None
            )
            if stamped is not None and int(stamped) != int(tenant_id):
                raise TenantMismatch(f"task {name} for tenant {tenant_id} carried header tenant {stamped}")
            tenant = tenant_info(int(tenant_id))
            if tenant.status is TenantStatus.DELETED:  # purged after the message was sent
                log.info("task %s skipped: tenant %s was purged", name, tenant.slug)
                return None
            token = current_tenant.set(tenant)
            try:
                with tenant_session(tenant) as session:
                    return func(session, tenant, *args, **kwargs)
            finally:
                current_tenant.reset(token)

        run.__doc__ = func.__doc__
        return run

    return register(fn) if fn is not None else register


def enqueue_for_tenant(task: Task, tenant_id: int, *args: Any, **kwargs: Any) -> AsyncResult:  # noqa: ANN401
    """Send a tenant task, with the tenant id both as argument and as message header."""
    return task.apply_async(args=(tenant_id, *args), kwargs=kwargs, headers=tenant_headers(tenant_id))


__all__ = ["enqueue_for_tenant", "tenant_task"]
