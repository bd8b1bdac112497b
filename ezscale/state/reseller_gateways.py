"""Reseller → Payment accounts (owner only): connect the reseller's own Stripe account, and its own PayPal
and BTCPay accounts (credentials stored encrypted, never shown back) with a connection test."""

import json

import reflex as rx
from sqlmodel import Session

from ezscale.db import central_session
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.payments import accounts, connect
from ezscale.services.resellers.roles import is_owner
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.state.gateway_accounts import GatewayAccountsMixin
from ezscale.state.messages import attempt
from ezscale.state.reseller import ResellerState

_STATE_TEXT = {
    connect.ConnectState.NOT_CONNECTED: "Not connected: your customers cannot pay by card yet.",
    connect.ConnectState.PENDING: "Onboarding not finished at Stripe: your customers cannot pay by card yet.",
    connect.ConnectState.CONNECTED: "Connected: your customers' card payments go to your Stripe account.",
    connect.ConnectState.PLATFORM: "The platform's own Stripe account.",
}


class ResellerGatewaysState(GatewayAccountsMixin, ResellerState):
    stripe_state: str = ""
    stripe_text: str = ""
    stripe_account: str = ""

    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        owner = self._owner()
        if owner is not None and not is_owner(owner[0], owner[1].id):
            self.error = "Only the reseller's owner can set up payment accounts."
            return None
        return owner

    def _store(self, central: Session, actor: AuthUser, tenant: TenantInfo, **settings) -> None:
        accounts.configure_reseller(central, tenant=tenant, actor=actor, **settings)

    def _read_more(self, central: Session, tenant: TenantInfo) -> None:
        status = connect.status(central, tenant=tenant)
        self.stripe_state, self.stripe_account = status.state.value, status.account_id
        self.stripe_text = _STATE_TEXT[status.state]

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is None:
            return redirect
        self.denied = self._who() is None
        if not self.denied:
            with central_session() as central:  # back from Stripe's onboarding: read its answer
                _, self.error = attempt(lambda: connect.refresh(central, tenant=tenant))
            self._refresh(tenant)
        return redirect

    @rx.event
    def connect_stripe(self):
        if (owner := self._who()) is None:
            return None
        user, tenant = owner

        def run() -> str:
            with central_session() as central:
                return connect.start_onboarding(central, tenant=tenant, actor=user, ip=self._ip())

        url, self.error = attempt(run)
        if self.error:
            return None
        return rx.call_script(f"window.location.assign({json.dumps(url)})")  # Stripe's onboarding
