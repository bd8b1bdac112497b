"""The tenant the current piece of work runs for (a page event, a task), and log records that
say which tenant they belong to."""

import logging
from contextvars import ContextVar

from ezscale.services.tenancy.tenants import TenantInfo

current_tenant: ContextVar[TenantInfo | None] = ContextVar("current_tenant", default=None)

LOG_FORMAT = "%(asctime)s %(levelname)s [tenant=%(tenant)s] %(name)s: %(message)s"


class TenantLogFilter(logging.Filter):
    """Stamps every record with the current tenant's slug ("-" outside tenant work)."""

    def filter(self, record: logging.LogRecord) -> bool:
        tenant = current_tenant.get()
        record.tenant = tenant.slug if tenant else "-"
        return True


def install(handler: logging.Handler) -> None:
    if not any(isinstance(f, TenantLogFilter) for f in handler.filters):
        handler.addFilter(TenantLogFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
