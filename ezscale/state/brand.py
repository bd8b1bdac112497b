"""The tenant's brand as shared state: every tab on a tenant's hosts is linked to one token per
tenant, so a saved branding change reaches all of them at once, without reload, and no other
tenant's tabs."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.tenancy.branding import DEFAULT_PRIMARY, DEFAULT_SECONDARY
from ezscale.services.tenancy.tenants import BrandingInfo, resolve_host


def brand_token(tenant_id: int) -> str:
    return f"brand-{tenant_id}"


class BrandState(rx.SharedState):
    """Public branding only (it is shared by every visitor of the tenant). No event here takes
    input, so a linked client cannot change what others see."""

    company_name: str = ""
    primary_color: str = DEFAULT_PRIMARY
    secondary_color: str = DEFAULT_SECONDARY
    logo_url: str = ""
    support_email: str = ""
    custom_css: str = ""

    def _apply(self, branding: BrandingInfo) -> None:
        """Copy only what changed, so re-linking does not push no-op updates to every tab."""
        values = {
            "company_name": branding.company_name,
            "primary_color": branding.primary_color,
            "secondary_color": branding.secondary_color,
            "logo_url": branding.logo_url or "",
            "support_email": branding.support_email or "",
            "custom_css": branding.custom_css or "",
        }
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def _publish(self, tenant_id: int, branding: BrandingInfo) -> None:
        state = self
        if self._linked_to != brand_token(tenant_id):
            state = await self._link_to(brand_token(tenant_id))
        state._apply(branding)

    @rx.event
    async def link_site(self):
        """On mount of every page: join this host's tenant brand and refresh it from the DB."""
        with central_session() as session:
            found = resolve_host(session, self.router.headers.host)
        if found.tenant is not None and found.branding is not None:
            await self._publish(found.tenant.id, found.branding)
