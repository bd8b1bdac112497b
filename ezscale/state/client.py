"""The client dashboard: services with price and next due date, workspaces, open invoices, credit
and recent activity."""

import reflex as rx

from ezscale.services.billing.views import InvoiceRow
from ezscale.services.provisioning import view
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state.auth import AuthState


class ClientState(AuthState):
    services: list[view.ServiceSummaryRow] = []
    workspaces: list[view.WorkspaceSummaryRow] = []
    open_invoices: list[InvoiceRow] = []
    balance: str = ""
    activity: list[view.ActivityRow] = []

    @rx.event
    def load(self):
        self.services, self.workspaces, self.open_invoices, self.activity = [], [], [], []
        self.balance = ""
        user = self._customer()
        if user is None:
            return
        tenant = self._tenant()
        with tenant_session(tenant) as db:
            board = view.client_dashboard(db, tenant=tenant, user_id=user.id)
        self.services, self.workspaces = board.services, board.workspaces
        self.open_invoices, self.balance, self.activity = board.open_invoices, board.balance, board.activity
