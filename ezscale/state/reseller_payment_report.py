"""Reseller → Payments: the reseller's own payments report (owner and billing staff), and its CSV."""

import reflex as rx

from ezscale import clock, routes
from ezscale.services.payments.report import parse_period, reseller_report
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.state.messages import attempt
from ezscale.state.payment_report_view import PaymentReportView
from ezscale.state.reseller import ResellerState


class ResellerPaymentReportState(PaymentReportView, ResellerState):
    def _refresh(self, start: str, end: str) -> None:
        user, tenant = self._reseller(), self._tenant()
        if user is None or tenant is None:
            self.error = "Not allowed."
            return

        def run():
            first, last = parse_period(start, end, today=clock.now().date())
            with tenant_session(tenant) as db:
                return reseller_report(db, actor=user, tenant=tenant, start=first, end=last)

        report, self.error = attempt(run)
        self._show(report)

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            query = self.router.url.query_parameters
            self._refresh(str(query.get("start", "")), str(query.get("end", "")))
        return redirect

    @rx.event
    def apply(self, form: dict):
        self._refresh(str(form.get("start", "")), str(form.get("end", "")))

    @rx.var
    def csv_href(self) -> str:
        return routes.RESELLER_PAYMENT_REPORT_CSV + self._query()
