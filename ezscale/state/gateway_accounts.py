"""A tenant's payment gateway accounts (PayPal, BTCPay; credentials stored encrypted, never sent
back), shared by the admin area (the house site) and the reseller area (the owner's own accounts)
as a Reflex state mixin: each area's state says who sets up which tenant's accounts (`_who`) and
through which service (`_store`)."""

from typing import TYPE_CHECKING

import reflex as rx
from sqlmodel import Session

from ezscale.db import central_session
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.payments import accounts
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.state.messages import attempt


class GatewayAccountsMixin(rx.State, mixin=True):
    # "<gateway>.<field>" → the stored value (secrets: "" and marked in `secrets_set`).
    values: dict[str, str] = {}
    enabled: dict[str, bool] = {}
    secrets_set: dict[str, bool] = {}
    webhook_urls: dict[str, str] = {}  # gateway → where it must send this tenant's webhooks
    if TYPE_CHECKING:
        error: str  # the area state's (the reseller area's one message, shown on the page)

    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        """Who sets up which tenant's accounts (None, with `error` saying why: not allowed)."""
        raise NotImplementedError

    def _store(self, central: Session, actor: AuthUser, tenant: TenantInfo, **settings) -> None:
        """Save one gateway's `settings` (gateway, enabled, api_base, credentials, ip) for `tenant`."""
        raise NotImplementedError

    def _read_more(self, central: Session, tenant: TenantInfo) -> None:
        """Read whatever else the area shows beside the accounts (nothing here)."""

    def _refresh(self, tenant: TenantInfo) -> None:
        with central_session() as central:
            self._read_more(central, tenant)
            views = accounts.list_accounts(central, tenant_id=tenant.id)
        values, secrets = {}, {}
        for view in views:
            values[f"{view.gateway}.api_base"] = view.api_base
            values.update({f"{view.gateway}.{k}": v for k, v in view.public.items()})
            secrets.update({f"{view.gateway}.{k}": True for k in view.secrets_set})
        self.values, self.secrets_set = values, secrets
        self.webhook_urls = {name: accounts.webhook_url(name, tenant.id) for name in accounts.FIELDS}
        self.enabled = {view.gateway: view.enabled for view in views}

    def _configure(self, gateway: str, enabled: bool, form: dict | None) -> bool:
        if (who := self._who()) is None:
            return False
        actor, tenant = who
        form = form or {}
        fields = accounts.FIELDS.get(gateway, ())
        settings = {
            "gateway": gateway,
            "enabled": enabled,
            "api_base": str(form.get("api_base", "")),
            "credentials": {name: str(form.get(name, "")) for name in fields if name in form},
            "ip": self.router.session.client_ip or "",
        }

        def run() -> None:
            with central_session() as central:
                self._store(central, actor, tenant, **settings)

        _, self.error = attempt(run)
        self._refresh(tenant)
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
        if (who := self._who()) is None:
            return None
        message, error = attempt(lambda: accounts.test_connection(who[1], str(gateway)))
        if error:
            return rx.toast.error(error)
        return rx.toast.success(message)
