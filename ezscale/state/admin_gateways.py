"""Platform admin → Gateways: which gateways the site takes payments with, their credentials
(stored encrypted, never shown back) and a connection test."""

import reflex as rx
from sqlmodel import Session

from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.payments import accounts
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.state.admin import AdminState
from ezscale.state.gateway_accounts import GatewayAccountsMixin


class AdminGatewaysState(GatewayAccountsMixin, AdminState):
    error: str = ""

    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        return self._house()

    def _store(self, central: Session, actor: AuthUser, tenant: TenantInfo, **settings) -> None:
        accounts.configure(central, tenant_id=tenant.id, actor=actor, **settings)

    @rx.event
    def load(self):
        self.error = ""
        redirect, allowed = self._admin_guard()
        if allowed and (house := self._house()) is not None:
            self._refresh(house[1])
        return redirect
