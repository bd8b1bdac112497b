"""Which site this browser tab is on: the tenant named by the Host header."""

import reflex as rx

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.services.tenancy.tenants import HostStatus, TenantInfo, resolve_host, tenant_info
from ezscale.tenant_context import current_tenant


class SiteState(rx.State):
    """Resolved on every page load from the websocket's Host header."""

    status: str = "loading"
    host: str = ""
    is_house: bool = False
    _tenant_id: int = 0
    # The currency a visitor picked on the storefront (a year; sign-up preselects it).
    visitor_currency: str = rx.Cookie("", name="ezscale_currency", same_site="lax", max_age=365 * 24 * 3600)

    def _resolve(self) -> TenantInfo | None:
        """Resolve the host again (never trust a cached tenant); branding lives in BrandState."""
        with central_session() as session:
            found = resolve_host(session, self.router.headers.host)
        self.host = found.host
        self.status = found.status.value
        self._tenant_id = found.tenant.id if found.tenant else 0
        self.is_house = bool(found.tenant and found.tenant.is_house)
        current_tenant.set(found.tenant)
        return found.tenant if found.status is HostStatus.OK else None

    def _tenant(self) -> TenantInfo | None:
        """The tenant this tab was resolved to, re-read from the central database."""
        return tenant_info(self._tenant_id) if self._tenant_id else None

    def _site_tenant(self) -> TenantInfo:
        """`_tenant()` for handlers behind a sign-in guard, which only runs on a tenant's site."""
        tenant = self._tenant()
        if tenant is None:
            raise DomainError("This site is not available.")
        return tenant

    @rx.event
    def load_site(self):
        self._resolve()
