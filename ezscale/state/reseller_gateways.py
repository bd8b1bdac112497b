"""Reseller → Payment accounts (owner only): connect the reseller's own Stripe account, and its own PayPal
and BTCPay accounts (credentials stored encrypted, never shown back) with a connection test."""

import json

import reflex as rx

from ezscale.db import central_session
from ezscale.services.accounts.sessions import AuthRole
from ezscale.services.payments import accounts, connect
from ezscale.state.messages import attempt
from ezscale.state.reseller import ResellerState

_STATE_TEXT = {
    connect.ConnectState.NOT_CONNECTED: "Not connected: your customers cannot pay by card yet.",
    connect.ConnectState.PENDING: "Onboarding not finished at Stripe: your customers cannot pay by card yet.",
    connect.ConnectState.CONNECTED: "Connected: your customers' card payments go to your Stripe account.",
    connect.ConnectState.PLATFORM: "The platform's own Stripe account.",
}


class ResellerGatewaysState(ResellerState):
    stripe_state: str = ""
    stripe_text: str = ""
    stripe_account: str = ""
    # "<gateway>.<field>" → the stored value (secrets: "" and marked in `secrets_set`).
    values: dict[str, str] = {}
    enabled: dict[str, bool] = {}
    secrets_set: dict[str, bool] = {}

    def _owner_only(self):
        owner = self._owner()
        if owner is None or owner[0].role != AuthRole.RESELLER_OWNER:
            self.error = "Only the reseller's owner can set up payment accounts."
            return None
        return owner

    def _refresh(self, *, read_back: bool = False) -> None:
        owner = self._owner_only()
        if owner is None:
            return
        tenant = owner[1]
        with central_session() as central:
            if read_back:
                status, error = attempt(lambda: connect.refresh(central, tenant=tenant))
                self.error = error
            status = connect.status(central, tenant=tenant)
            views = accounts.list_accounts(central, tenant_id=tenant.id)
        self.stripe_state, self.stripe_account = status.state.value, status.account_id
        self.stripe_text = _STATE_TEXT[status.state]
        values, secrets = {}, {}
        for view in views:
            values[f"{view.gateway}.api_base"] = view.api_base
            values.update({f"{view.gateway}.{k}": v for k, v in view.public.items()})
            secrets.update({f"{view.gateway}.{k}": True for k in view.secrets_set})
        self.values, self.secrets_set = values, secrets
        self.enabled = {view.gateway: view.enabled for view in views}

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            user = self._reseller()
            self.denied = user is None or user.role != AuthRole.RESELLER_OWNER
            if not self.denied:
                self._refresh(read_back=True)
        return redirect

    @rx.event
    def connect_stripe(self):
        owner = self._owner_only()
        if owner is None:
            return None
        user, tenant = owner

        def run() -> str:
            with central_session() as central:
                return connect.start_onboarding(central, tenant=tenant, actor=user, ip=self._ip())

        url, self.error = attempt(run)
        if self.error:
            return None
        return rx.call_script(f"window.location.assign({json.dumps(url)})")  # Stripe's onboarding

    def _configure(self, gateway: str, enabled: bool, form: dict | None) -> bool:
        owner = self._owner_only()
        if owner is None:
            return False
        user, tenant = owner
        form = form or {}
        fields = accounts.FIELDS.get(gateway, ())
        credentials = {name: str(form.get(name, "")) for name in fields if name in form}

        def run() -> None:
            with central_session() as central:
                accounts.configure_reseller(
                    central,
                    tenant=tenant,
                    gateway=gateway,
                    enabled=enabled,
                    api_base=str(form.get("api_base", "")),
                    credentials=credentials,
                    actor=user,
                    ip=self._ip(),
                )

        _, self.error = attempt(run)
        self._refresh()
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
        owner = self._owner_only()
        if owner is None:
            return None
        message, error = attempt(lambda: accounts.test_connection(owner[1], str(gateway)))
        if error:
            return rx.toast.error(error)
        return rx.toast.success(message)
