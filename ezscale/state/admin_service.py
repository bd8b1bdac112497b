"""Platform admin → one service's provisioning: handles, jobs and log; retry and force sync."""

import asyncio

import reflex as rx

from ezscale.errors import NotFound
from ezscale.services.provisioning import lifecycle, staff
from ezscale.services.tenancy.tenants import tenant_info, tenant_session
from ezscale.state.admin import AdminState
from ezscale.state.messages import attempt, parse_id


class AdminServiceState(AdminState):
    view: staff.StaffServiceView | None = None
    tenant_id: str = ""
    busy: bool = False
    message: str = ""
    error: str = ""

    def _ids(self) -> tuple[int, int]:
        params = self.router.url.query_parameters
        return parse_id(params.get("tenant", ""), "service"), parse_id(params.get("service", ""), "service")

    def _refresh(self) -> None:
        def read() -> staff.StaffServiceView:
            tenant_id, service_id = self._ids()
            with tenant_session(tenant_info(tenant_id)) as db:
                return staff.service_view(db, service_id=service_id)

        self.view, error = attempt(read)
        self.error = self.error or error

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        self.view, self.message, self.error = None, "", ""
        if allowed:
            self.tenant_id = self.router.url.query_parameters.get("tenant", "")
            self._refresh()
        return redirect

    async def _act(self, run) -> None:
        """Run `run(db, service_id, admin, ip)` off the event loop (it may call the panel)."""
        async with self:
            admin = self._admin()
            if admin is None or self.busy:
                self.error = "" if admin else "Not allowed."
                return
            self.busy, self.message, self.error = True, "", ""
            ip = self.router.session.client_ip
            ids, _ = attempt(self._ids)

        def act() -> str:
            if ids is None:
                raise NotFound("No such service.")
            tenant = tenant_info(ids[0])
            with tenant_session(tenant) as db:
                return run(db, ids[1], admin, ip)

        done, error = await asyncio.to_thread(attempt, act)
        async with self:
            self.busy, self.message, self.error = False, done or "", error
            self._refresh()

    @rx.event(background=True)
    async def retry(self, job_id: int):
        await self._act(
            lambda db, sid, a, ip: staff.retry_failed(db, service_id=sid, job_id=job_id, actor=a, ip=ip)
        )

    @rx.event(background=True)
    async def run_now(self):
        def run(db, sid, a, ip) -> str:
            count = lifecycle.retry_now(db, service_id=sid, actor=a, ip=ip)
            return f"{count} waiting job(s) sent to run now." if count else "No job is waiting."

        await self._act(run)

    @rx.event(background=True)
    async def sync(self):
        def run(db, sid, a, ip) -> str:
            details = lifecycle.sync(db, service_id=sid, actor=a, ip=ip)
            return f"Synced: the panel says {details.state.value}."

        await self._act(run)
