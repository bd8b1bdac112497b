"""The notice a reseller's own people see (never its customers) while the reseller cannot take
payments: on the reseller overview and on the storefront when signed in."""

import reflex as rx

from ezscale.services.payments import connect
from ezscale.state.auth import AuthState


class PaymentsNoticeState(AuthState):
    payments_off: bool = False

    @rx.event
    def load(self):
        user = self._reseller()
        tenant = self._tenant()
        self.payments_off = bool(
            user is not None
            and tenant is not None
            and user.tenant_id == tenant.id
            and not connect.can_take_payments(tenant)
        )
