"""The order page of one recurring plan: its quote, and placing the order."""

import reflex as rx

from ezscale import routes
from ezscale.services.billing import orders, views
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state.auth import AuthState
from ezscale.state.messages import attempt


class OrderState(AuthState):
    quote: views.OrderQuoteRow | None = None
    error: str = ""
    _placed_invoice_id: int = 0
    _placed_service_id: int = 0  # a free trial: nothing invoiced, the service page shows it

    def _plan_code(self) -> str:
        """The route's `[plan_code]` (Reflex adds a var of that name for the dynamic route)."""
        return self.plan_code  # type: ignore[attr-defined]  # added by Reflex for the route

    @rx.event
    def load(self):
        self.quote, self.error, self._placed_invoice_id, self._placed_service_id = None, "", 0, 0
        user = self._customer()
        if user is None:
            return

        def run() -> views.OrderQuoteRow:
            with tenant_session(self._site_tenant()) as db:
                return views.order_quote(db, user_id=user.id, plan_code=self._plan_code())

        self.quote, self.error = attempt(run)

    @rx.event
    def place(self):
        """Order once per page load (a second click goes to the invoice already made)."""
        if self._placed_invoice_id:
            return rx.redirect(routes.invoice_path(self._placed_invoice_id))
        if self._placed_service_id:
            return rx.redirect(routes.service_path(self._placed_service_id))
        user = self._customer()
        if user is None:
            self.error = "Please sign in again."
            return None
        tenant = self._tenant()

        def run():
            with tenant_session(tenant) as db:
                return orders.place_order(db, tenant=tenant, user_id=user.id, plan_code=self._plan_code())

        order, self.error = attempt(run)
        if order is None:
            return None
        if order.invoice is None:
            self._placed_service_id = order.service.id or 0
            trial = self.quote.trial if self.quote is not None else ""
            toast = rx.toast.success(f"Your free trial has started: {trial}.")
            return [rx.redirect(routes.service_path(self._placed_service_id)), toast]
        self._placed_invoice_id = order.invoice.id
        number = order.invoice.number
        toast = (
            rx.toast.success(f"Thank you: invoice {number} is paid and your service is active.")
            if order.paid
            else rx.toast.info(f"Order placed: pay invoice {number} now to start your service.")
        )
        return [rx.redirect(routes.invoice_path(order.invoice.id)), toast]
