"""Platform admin → Overview: the platform's health figures (see services.platform_health)."""

import reflex as rx

from ezscale import clock
from ezscale.db import central_session
from ezscale.services.analytics.platform_health import Figure, platform_health
from ezscale.state.admin import AdminState


class AdminOverviewState(AdminState):
    health: list[Figure] = []

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if not allowed or self._admin() is None:
            self.health = []
            return redirect
        with central_session() as central:
            self.health = platform_health(central, now=clock.now())
        return None
