"""Platform admin → Overview: the platform's health figures (see services.platform_health)."""

from dataclasses import asdict

import reflex as rx

from ezscale import clock
from ezscale.db import central_session
from ezscale.services.analytics.platform_health import platform_health
from ezscale.state.admin import AdminState


class AdminOverviewState(AdminState):
    health: list[dict[str, str]] = []

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if not allowed or self._admin() is None:
            self.health = []
            return redirect
        with central_session() as central:
            self.health = [asdict(f) for f in platform_health(central, now=clock.now())]
        return None
