"""The public storefront: the tenant's own plan catalogue."""

import reflex as rx

from ezscale import routes
from ezscale.services.catalogue.storefront import list_public_plans
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state.site import SiteState


class StorefrontState(SiteState):
    plans: list[dict[str, str]] = []

    @rx.event
    def load(self):
        tenant = self._resolve()
        if tenant is None:
            self.plans = []
            return
        with tenant_session(tenant) as session:
            self.plans = [
                {
                    "code": p.code,
                    "name": p.name,
                    "description": p.description,
                    "price": p.price_label,
                    "kind": p.kind_label,
                    "trial": p.trial,
                    # Workspaces are started (and billed by the hour) on the workspaces page,
                    # with the chosen type selected there.
                    "href": routes.workspaces_path(p.code) if p.hourly else routes.order_path(p.code),
                    "action": "Launch" if p.hourly else "Order",
                }
                for p in list_public_plans(session)
            ]
