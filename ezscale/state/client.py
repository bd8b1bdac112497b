"""The client area's home: the customer's recurring services."""

import reflex as rx

from ezscale.services.billing import orders
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state.auth import AuthState


class ClientState(AuthState):
    services: list[orders.ServiceRow] = []

    @rx.event
    def load(self):
        self.services = []
        user = self._customer()
        if user is not None:
            with tenant_session(self._tenant()) as db:
                self.services = orders.list_services(db, user_id=user.id)
