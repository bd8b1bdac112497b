"""Which site this browser tab is on: the tenant named by the Host header, and its branding."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.tenancy import HostStatus, TenantInfo, resolve_host, tenant_info


class SiteState(rx.State):
    """Resolved on every page load from the websocket's Host header."""

    status: str = "loading"
    host: str = ""
    company_name: str = ""
    primary_color: str = "#3B82F6"
    secondary_color: str = "#1E293B"
    logo_url: str = ""
    support_email: str = ""
    is_house: bool = False
    _tenant_id: int = 0

    def _resolve(self) -> TenantInfo | None:
        """Resolve the host again (never trust a cached tenant) and publish its branding."""
        with central_session() as session:
            found = resolve_host(session, self.router.headers.host)
        self.host = found.host
        self.status = found.status.value
        self._tenant_id = found.tenant.id if found.tenant else 0
        self.is_house = bool(found.tenant and found.tenant.is_house)
        if found.branding:
            self.company_name = found.branding.company_name
            self.primary_color = found.branding.primary_color
            self.secondary_color = found.branding.secondary_color
            self.logo_url = found.branding.logo_url or ""
            self.support_email = found.branding.support_email or ""
        else:
            self.company_name = ""
        return found.tenant if found.status is HostStatus.OK else None

    def _tenant(self) -> TenantInfo | None:
        """The tenant this tab was resolved to, re-read from the central database."""
        return tenant_info(self._tenant_id) if self._tenant_id else None

    @rx.event
    def load_site(self):
        self._resolve()
