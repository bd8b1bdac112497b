"""The customer's page of one service: details, access, power, reinstall, usage, plan change and
cancellation. Panel calls run off the event loop (background events); a background watch re-reads
the service's status every two seconds so a finished build, a suspension or a cancelled service's
removal from its panel shows without reload."""

import asyncio
from collections.abc import Callable
from typing import TypeVar

import reflex as rx
from sqlmodel import Session

from ezscale.errors import NotFound
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.billing.views import InvoiceRow
from ezscale.services.provisioning import self_service, view
from ezscale.services.provisioning.module import OsChoice
from ezscale.services.provisioning.self_service import Credentials
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.auth import AuthState
from ezscale.state.messages import attempt, parse_id

WATCH_SECONDS = 2.0
WATCH_LIMIT = 900  # polls (half an hour) per page visit
T = TypeVar("T")


class ServiceState(AuthState):
    page: view.ServicePage | None = None
    invoices: list[InvoiceRow] = []
    usage: list[view.UsageRow] = []
    os_options: list[OsChoice] = []
    os_choice: str = ""
    login: Credentials | None = None  # shown on demand (None: hidden)
    busy: bool = False
    message: str = ""
    error: str = ""
    _watching: bool = False

    def _id(self) -> int:
        return parse_id(self.router.page.params.get("service_id", ""), "service")

    def _in(self, fn: Callable[[Session, TenantInfo, AuthUser, int], T]) -> T | None:
        """Run `fn(db, tenant, user, service id)` for the signed-in customer's service; a
        DomainError's message lands in `error`."""
        user, tenant = self._customer(), self._tenant()

        def run() -> T:
            if user is None or tenant is None:
                raise NotFound("Please sign in again.")
            with tenant_session(tenant) as db:
                return fn(db, tenant, user, self._id())

        result, self.error = attempt(run)
        return result

    def _refresh(self) -> None:
        def read(db, tenant, user, service_id):
            page = view.service_page(db, user_id=user.id, service_id=service_id)
            service = view.owned_service(db, user_id=user.id, service_id=service_id)
            return page, view.service_invoices(db, service=service)

        found = self._in(read)
        self.page, self.invoices = found if found else (None, [])

    @rx.event
    def load(self):
        self.page, self.usage, self.os_options, self.login = None, [], [], None
        self.os_choice, self.message, self.error = "", "", ""
        if self._customer() is None:
            return None
        self._refresh()
        if self.page is not None and self.page.status == "active" and "usage" in self.page.capabilities:
            return [ServiceState.watch, ServiceState.load_usage]
        return ServiceState.watch

    @rx.event
    def stop_watch(self):
        """The page was left: its watch ends at the next poll."""
        self.page = None

    @rx.event(background=True)
    async def watch(self):
        """Poll the service's status while this page shows it; reload the page when it changes."""
        async with self:
            if self._watching or self.page is None:
                return
            self._watching, shown = True, self.page.id
        try:
            for _ in range(WATCH_LIMIT):
                await asyncio.sleep(WATCH_SECONDS)
                async with self:
                    if self.page is None or self.page.id != shown:
                        return
                    status = self._in(
                        lambda db, t, u, sid: view.service_status(db, user_id=u.id, service_id=sid)
                    )
                    shown_status = (self.page.status, self.page.status_reason, self.page.removal)
                    if status and status != shown_status:
                        self._refresh()
        finally:
            async with self:
                self._watching = False

    async def _panel(
        self, fn: Callable[[Session, TenantInfo, AuthUser, int, str], T], done: Callable[[T], None]
    ) -> None:
        """Run a panel call off the event loop; `done(result)` applies a success."""
        async with self:
            if self.busy:
                return
            self.busy, self.message, self.error = True, "", ""
            user, tenant, ip = self._customer(), self._tenant(), self.router.session.client_ip
            try:
                service_id = self._id()
            except NotFound as error:
                self.busy, self.error = False, str(error)
                return

        def run() -> T:
            if user is None or tenant is None:
                raise NotFound("Please sign in again.")
            with tenant_session(tenant) as db:
                return fn(db, tenant, user, service_id, ip)

        try:
            result, refused = await asyncio.to_thread(attempt, run)
        finally:
            async with self:
                self.busy = False
        async with self:
            self.error = refused
            if result is not None:
                done(result)
                self._refresh()

    def _said(self, text: str) -> None:
        self.message = text

    @rx.event(background=True)
    async def power(self, action: str):
        await self._panel(
            lambda db, t, u, sid, ip: self_service.power(db, actor=u, service_id=sid, action=action, ip=ip),
            self._said,
        )

    @rx.event(background=True)
    async def open_panel(self):
        urls: list[str] = []
        await self._panel(
            lambda db, t, u, sid, ip: self_service.sso_url(db, actor=u, service_id=sid, ip=ip), urls.append
        )
        if urls:
            return rx.redirect(urls[0], is_external=True)
        return None

    @rx.event
    def reveal(self):
        self.login = self._in(  # username, password, SFTP address and user
            lambda db, t, u, sid: self_service.reveal_credentials(
                db, actor=u, service_id=sid, ip=self.router.session.client_ip
            )
        )

    @rx.event
    def hide(self):
        self.login = None

    @rx.event(background=True)
    async def load_usage(self):
        def show(metrics) -> None:
            self.usage = view.usage_rows(metrics)

        await self._panel(
            lambda db, t, u, sid, ip: self_service.usage(db, user_id=u.id, service_id=sid), show
        )

    @rx.event(background=True)
    async def load_os(self):
        def show(choices: list[OsChoice]) -> None:
            self.os_options = choices

        await self._panel(
            lambda db, t, u, sid, ip: self_service.os_choices(db, user_id=u.id, service_id=sid), show
        )

    @rx.event
    def set_os_choice(self, value: str):
        self.os_choice = value[:100]

    @rx.event(background=True)
    async def reinstall(self):
        async with self:
            os_id = self.os_choice

        def done(text: str) -> None:
            self.message, self.login = text, None  # a revealed password is stale: reveal the new one

        await self._panel(
            lambda db, t, u, sid, ip: self_service.reinstall(db, actor=u, service_id=sid, os_id=os_id, ip=ip),
            done,
        )
