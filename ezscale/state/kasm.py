"""The customer's workspace dashboard: order, start/stop/terminate, open; live via kasm_live."""

import reflex as rx

from ezscale.errors import DomainError
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.client import KasmClient
from ezscale.services.kasm.view import (
    Dashboard,
    HistoryRow,
    Option,
    Patch,
    WorkspaceRow,
    load_view,
    order_options,
    patched_rows,
    type_for_code,
)
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state import kasm_live
from ezscale.state.auth import AuthState
from ezscale.state.messages import attempt
from ezscale.tasks.kasm import schedule_converge


class KasmState(AuthState):
    workspaces: list[WorkspaceRow] = []
    history: list[HistoryRow] = []
    month: str = ""
    balance: str = ""
    notices: list[str] = []
    type_options: list[Option] = []
    template_options: list[Option] = []
    plan_id: str = ""
    template_id: str = ""
    error: str = ""
    server_now_ms: int = 0
    _user_id: int = 0

    def _reload(self) -> None:
        """Re-read the dashboard for the customer this tab was signed in as."""
        tenant = self._tenant()
        if tenant is not None and self._user_id:
            self._apply(load_view(tenant, self._user_id))

    def _apply(self, view: Dashboard) -> None:
        self.workspaces = view.workspaces
        self.history = view.history
        self.month = view.month
        self.balance = view.balance
        self.notices = view.notices
        self.server_now_ms = view.server_now_ms

    def _patch(self, update: Patch) -> None:
        """Apply one signalled change (only the parts it carries)."""
        if update.workspace_id:
            self.workspaces = patched_rows(self.workspaces, update)
        for name in ("history", "month", "balance", "notices"):
            if (value := getattr(update, name)) is not None:
                setattr(self, name, value)
        self.server_now_ms = update.server_now_ms

    @rx.event
    def load(self):
        user = self._customer()
        if user is None:
            self._user_id = 0
            return
        self._user_id = user.id
        code = self.router.page.params.get("plan_code", "")
        with tenant_session(self._tenant()) as db:
            types, templates = order_options(db, user_id=user.id)
            chosen = type_for_code(db, code) if isinstance(code, str) and code else ""
        self.type_options, self.template_options = types, templates
        self.plan_id = chosen or self.plan_id
        self.plan_id = self.plan_id or (types[0].value if types else "")
        self.template_id = self.template_id or (templates[0].value if templates else "")
        self.error = ""
        self._reload()
        kasm_live.watch(self.router.session.client_token, self._tenant_id, user.id)

    @rx.event
    def set_plan(self, value: str):
        self.plan_id = value

    @rx.event
    def set_template(self, value: str):
        self.template_id = value

    def _act(self, action, workspace_id: int, *, converge: bool = True) -> None:
        user = self._customer()
        if user is None:
            self.error = "Please sign in again."
            return
        tenant = self._site_tenant()

        def run() -> None:
            with tenant_session(tenant) as db:
                action(db, user_id=user.id, workspace_id=workspace_id)

        _, self.error = attempt(run)
        if not self.error and converge:
            schedule_converge(tenant.id, workspace_id)
        self._reload()

    @rx.event
    def order(self):
        user = self._customer()
        if user is None:
            self.error = "Please sign in again."
            return
        tenant = self._tenant()
        try:
            with tenant_session(tenant) as db:
                ws = kasm.order_workspace(
                    db,
                    user_id=user.id,
                    plan_id=int(self.plan_id or 0),
                    template_id=int(self.template_id or 0),
                )
        except (DomainError, ValueError) as error:
            self.error = (
                str(error) if isinstance(error, DomainError) else "Please pick a type and a template."
            )
        else:
            self.error = ""
            schedule_converge(tenant.id, ws.id)
        self._reload()

    @rx.event
    def stop(self, workspace_id: int):
        self._act(kasm.stop_workspace, workspace_id)

    @rx.event
    def start(self, workspace_id: int):
        self._act(kasm.start_workspace, workspace_id)

    @rx.event
    def terminate(self, workspace_id: int):
        self._act(kasm.terminate_workspace, workspace_id)

    @rx.event
    def open_workspace(self, workspace_id: int):
        user = self._customer()
        if user is None:
            return
        try:
            with tenant_session(self._site_tenant()) as db, KasmClient.from_settings() as client:
                url = kasm.open_url(db, user_id=user.id, workspace_id=workspace_id, client=client)
        except DomainError as error:
            self.error = str(error)
            return
        return rx.redirect(url, is_external=True)
