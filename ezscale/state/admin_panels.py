"""Platform admin → Panels: provisioning panels (credentials write-only, connection test), which
panel and package each plan maps to, and what a final provisioning failure does with the payment."""

import asyncio

import reflex as rx

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.tenant import BillingInterval
from ezscale.services.catalogue.plans import list_plans
from ezscale.services.provisioning import admin_view, panels
from ezscale.services.provisioning.admin_view import MappingView, ModuleChoice, PanelView
from ezscale.services.tenancy.tenants import tenant_info, tenant_session
from ezscale.state.admin import AdminState
from ezscale.state.messages import attempt, parse_id

_PANEL_FIELDS = ("module", "label", "base_url", "credentials", "options", "timeout")
_MAPPING_FIELDS = ("plan_code", "panel_id", "package", "options")
_NEW_PANEL = dict.fromkeys(_PANEL_FIELDS, "") | {"timeout": "60"}


def parse_pairs(text: str, what: str) -> dict[str, str]:
    """`name=value` lines (blank lines skipped); anything else is refused with a clear message."""
    pairs: dict[str, str] = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise DomainError(f"Write the {what} one per line as name=value.")
        pairs[name.strip()] = value.strip()
    return pairs


def _timeout(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DomainError("The timeout must be a number of seconds.") from None


class AdminPanelsState(AdminState):
    panels: list[PanelView] = []
    mappings: list[MappingView] = []
    modules: list[ModuleChoice] = []
    plan_codes: list[str] = []
    failure_refund: str = "credit"
    panel_form: dict[str, str] = dict(_NEW_PANEL)
    editing: str = ""  # id of the panel in the form; "" for a new one
    mapping_form: dict[str, str] = dict.fromkeys(_MAPPING_FIELDS, "")
    message: str = ""
    error: str = ""
    testing: int = 0  # id of the panel whose connection is being tested

    def _refresh(self, house_id: int) -> None:
        with central_session() as central:
            self.panels = admin_view.panel_views(central)
            self.mappings = admin_view.mapping_views(central)
            self.failure_refund = panels.current_settings(central).failure_refund.value
        self.modules = admin_view.module_choices()
        with tenant_session(tenant_info(house_id)) as db:
            self.plan_codes = [p.code for p in list_plans(db) if p.interval != BillingInterval.HOURLY.value]

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        self.message, self.error, self.editing = "", "", ""
        self.panel_form = dict(_NEW_PANEL)
        if allowed and (admin := self._admin()):
            self._refresh(admin.tenant_id)
        return redirect

    def _act(self, run, done: str) -> bool:
        """Run `run(central, admin, ip)` as the signed-in admin; show the outcome."""
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return False
        ip = self.router.session.client_ip

        def act():
            with central_session() as central:
                return run(central, admin, ip)

        _, self.error = attempt(act)
        self.message = "" if self.error else done
        self._refresh(admin.tenant_id)
        return not self.error

    @rx.event
    def set_panel_field(self, field: str, value: str):
        if field in _PANEL_FIELDS:
            self.panel_form = {**self.panel_form, field: value[:2000]}

    @rx.event
    def set_mapping_field(self, field: str, value: str):
        if field in _MAPPING_FIELDS:
            self.mapping_form = {**self.mapping_form, field: value[:2000]}

    @rx.event
    def edit(self, panel_id: int):
        found = next((p for p in self.panels if p.id == panel_id), None)
        if found:
            self.editing = str(panel_id)
            self.panel_form = {f: getattr(found, f) for f in _PANEL_FIELDS} | {"credentials": ""}

    @rx.event
    def new_panel(self):
        self.editing, self.panel_form = "", dict(_NEW_PANEL)

    @rx.event
    def save_panel(self):
        form, editing = self.panel_form, self.editing

        def run(central, admin, ip):
            values = {
                "label": form.get("label", ""),
                "base_url": form.get("base_url", ""),
                "credentials": parse_pairs(form.get("credentials", ""), "credentials"),
                "options": parse_pairs(form.get("options", ""), "options"),
                "timeout_seconds": _timeout(form.get("timeout", "")),
            }
            if editing:
                panel_id = parse_id(editing, "panel")
                return panels.update_panel(central, panel_id=panel_id, actor=admin, ip=ip, **values)
            return panels.create_panel(central, module=form.get("module", ""), actor=admin, ip=ip, **values)

        if self._act(run, "Panel saved."):
            self.editing, self.panel_form = "", dict(_NEW_PANEL)

    @rx.event
    def toggle(self, panel_id: int, enabled: bool):
        self._act(
            lambda c, a, ip: panels.update_panel(
                c, panel_id=parse_id(panel_id, "panel"), enabled=enabled, actor=a, ip=ip
            ),
            "Panel enabled." if enabled else "Panel disabled: its plans show as unavailable.",
        )

    @rx.event(background=True)
    async def test(self, panel_id: int):
        """Call the panel off the event loop (a dead panel takes its whole timeout to fail)."""
        async with self:
            admin, ip = self._admin(), self.router.session.client_ip
            if admin is None:
                self.error = "Not allowed."
                return
            self.message, self.error, self.testing = "", "", panel_id

        def run() -> None:
            with central_session() as central:
                panels.test_connection(central, panel_id=parse_id(panel_id, "panel"), actor=admin, ip=ip)

        _, error = await asyncio.to_thread(attempt, run)
        async with self:
            self.error, self.message, self.testing = error, "" if error else "Connection works.", 0
            self._refresh(admin.tenant_id)

    @rx.event
    def save_mapping(self):
        form = self.mapping_form

        def run(central, admin, ip):
            return panels.set_mapping(
                central,
                plan_code=form.get("plan_code", ""),
                panel_id=parse_id(form.get("panel_id", ""), "panel"),
                package=form.get("package", ""),
                options=parse_pairs(form.get("options", ""), "options"),
                actor=admin,
                ip=ip,
            )

        if self._act(run, "Plan mapped."):
            self.mapping_form = dict.fromkeys(_MAPPING_FIELDS, "")

    @rx.event
    def remove_mapping(self, plan_code: str):
        self._act(
            lambda c, a, ip: panels.remove_mapping(c, plan_code=plan_code, actor=a, ip=ip), "Mapping removed."
        )

    @rx.event
    def set_failure_refund(self, mode: str):
        self._act(
            lambda c, a, ip: panels.set_failure_refund(c, mode=mode, actor=a, ip=ip), "Failure refund saved."
        )
