"""Platform admin → Payments: the payments report of every tenant or one, for a period, and
its CSV."""

import reflex as rx

from ezscale import clock, routes
from ezscale.db import central_session
from ezscale.services.payments.report import parse_period, platform_report
from ezscale.services.payments.report_view import TenantChoice, tenant_choices
from ezscale.state.admin import AdminState
from ezscale.state.messages import attempt, parse_id
from ezscale.state.payment_report_view import PaymentReportView

ALL = "all"


class AdminPaymentsState(PaymentReportView, AdminState):
    tenant: str = ALL
    tenants: list[TenantChoice] = []
    error: str = ""

    def _refresh(self, start: str, end: str, tenant: str | None = None) -> None:
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return
        self.tenant = self.tenant if tenant is None else tenant

        def run():
            tenant_id = None if self.tenant == ALL else parse_id(self.tenant, "tenant")
            first, last = parse_period(start, end, today=clock.now().date())
            with central_session() as central:
                self.tenants = tenant_choices(central)
                return platform_report(central, actor=admin, tenant_id=tenant_id, start=first, end=last)

        report, self.error = attempt(run)
        if report is not None:
            self._show(report)

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed:
            query = self.router.url.query_parameters
            tenant = str(query.get("tenant", ALL) or ALL)
            self._refresh(str(query.get("start", "")), str(query.get("end", "")), tenant)
        return redirect

    @rx.event
    def choose_tenant(self, tenant: str):
        self._refresh(self.start, self.end, str(tenant))

    @rx.event
    def apply(self, form: dict):
        self._refresh(str(form.get("start", "")), str(form.get("end", "")))

    @rx.var
    def csv_href(self) -> str:
        return routes.ADMIN_PAYMENTS_CSV + self._query(tenant="" if self.tenant == ALL else self.tenant)
