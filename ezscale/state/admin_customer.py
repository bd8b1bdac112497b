"""Platform admin → one customer of any tenant: record, timeline and actions."""

import reflex as rx

from ezscale import routes
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.customers.view import ProfileView
from ezscale.services.tenancy.tenants import TenantInfo, tenant_info
from ezscale.state.admin import AdminState
from ezscale.state.customer_record import CustomerRecordMixin


class AdminCustomerState(CustomerRecordMixin, AdminState):
    _customer_tenant: int = 0
    provisioning_base: str = ""  # a service's provisioning page, less the service id

    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        admin = self._admin()
        return None if admin is None else (admin, tenant_info(self._customer_tenant))

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if not allowed:
            return redirect
        params = self.router.url.query_parameters
        try:
            self._customer_tenant = int(params.get("tenant", ""))
            self.provisioning_base = f"{routes.ADMIN_SERVICE}?tenant={self._customer_tenant}&service="
        except ValueError:
            self.profile, self.error = ProfileView(), "No such customer."
            return None
        self._open(params.get("user", ""))
        return None
