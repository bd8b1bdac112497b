"""Platform admin → Gateways: which gateways the site takes payments with, their credentials
(stored encrypted, never shown back) and a connection test."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.payments import accounts
from ezscale.services.tenancy.tenants import tenant_info
from ezscale.state.admin import AdminState
from ezscale.state.messages import attempt


class AdminGatewaysState(AdminState):
    # "<gateway>.<field>" → the stored value (secrets: "" and listed in `secrets_set`).
    values: dict[str, str] = {}
    enabled: dict[str, bool] = {}
    secrets_set: dict[str, bool] = {}
    error: str = ""

    def _refresh(self, tenant_id: int) -> None:
        with central_session() as central:
            views = accounts.list_accounts(central, tenant_id=tenant_id)
        values, secrets = {}, {}
        for view in views:
            values[f"{view.gateway}.api_base"] = view.api_base
            for name, value in view.public.items():
                values[f"{view.gateway}.{name}"] = value
            for name in view.secrets_set:
                secrets[f"{view.gateway}.{name}"] = True
        self.values, self.secrets_set = values, secrets
        self.enabled = {view.gateway: view.enabled for view in views}

    @rx.event
    def load(self):
        self.error = ""
        redirect, allowed = self._admin_guard()
        admin = self._admin()
        if allowed and admin is not None:
            self._refresh(admin.tenant_id)
        return redirect

    def _configure(self, gateway: str, enabled: bool, form: dict | None) -> bool:
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return False
        ip = self.router.session.client_ip or ""
        form = form or {}
        fields = accounts.FIELDS.get(gateway, ())
        credentials = {name: str(form.get(name, "")) for name in fields if name in form}

        def run() -> None:
            with central_session() as central:
                accounts.configure(
                    central,
                    tenant_id=admin.tenant_id,
                    gateway=gateway,
                    enabled=enabled,
                    api_base=str(form.get("api_base", "")),
                    credentials=credentials,
                    actor=admin,
                    ip=ip,
                )

        _, self.error = attempt(run)
        self._refresh(admin.tenant_id)
        return not self.error

    @rx.event
    def save(self, form: dict):
        gateway = str(form.get("gateway", ""))
        if self._configure(gateway, bool(self.enabled.get(gateway)), form):
            return rx.toast.success("Saved.")
        return None

    @rx.event
    def switch(self, gateway: str, on: bool):
        if self._configure(str(gateway), bool(on), None):
            return rx.toast.success("Switched on." if on else "Switched off.")
        return None

    @rx.event
    def test(self, gateway: str):
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return None
        message, error = attempt(lambda: accounts.test_connection(tenant_info(admin.tenant_id), str(gateway)))
        if error:
            return rx.toast.error(error)
        return rx.toast.success(message)
