"""Platform admin → Capacity: how many more of each mapped plan each panel can take now."""

import asyncio

import reflex as rx

from ezscale.db import central_session
from ezscale.services.provisioning.stock import CapacityRow, capacity_view
from ezscale.state.admin import AdminState


def _read() -> list[CapacityRow]:
    with central_session() as central:
        return capacity_view(central)


class AdminCapacityState(AdminState):
    rows: list[CapacityRow] = []
    loading: bool = False
    checked: bool = False

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        self.rows, self.checked = [], False
        return redirect if not allowed else AdminCapacityState.refresh

    @rx.event(background=True)
    async def refresh(self):
        """Ask every panel now (off the event loop: each answer may take seconds)."""
        async with self:
            if self.loading or self._admin() is None:
                return
            self.loading = True
        try:
            rows = await asyncio.to_thread(_read)
        finally:
            async with self:
                self.loading = False
        async with self:
            self.rows, self.checked = rows, True
