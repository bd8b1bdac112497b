"""The public storefront: the tenant's own plan catalogue, priced in the currency the visitor
picks among the tenant's (kept in a cookie)."""

import reflex as rx

from ezscale.services.catalogue.storefront_view import PlanCard, plan_cards
from ezscale.services.fx.currencies import tenant_currencies, visitor_currency
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state.site import SiteState


class StorefrontState(SiteState):
    plans: list[PlanCard] = []
    # The tenant's currencies (the base first); one: no picker is shown.
    currencies: list[str] = []
    currency: str = ""

    @rx.event
    def load(self):
        tenant = self._resolve()
        if tenant is None:
            self.plans = []
            return
        with tenant_session(tenant) as session:
            self.currencies = list(tenant_currencies(session).enabled)
            self.currency = visitor_currency(session, self.visitor_currency)
            self.plans = plan_cards(session, currency=self.currency)

    @rx.event
    def choose_currency(self, code: str):
        """Show prices in `code` (kept for the next visit and preselected at sign-up)."""
        if str(code).upper() in self.currencies:
            self.visitor_currency = str(code).upper()
        return StorefrontState.load
