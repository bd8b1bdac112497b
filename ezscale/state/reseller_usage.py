"""Reseller → Usage: one month's workspace hours and revenue, active services and margins, CSV."""

import reflex as rx

from ezscale import clock
from ezscale.services.resellers.usage_stats import month_start, recent_months, usage_csv, usage_month
from ezscale.services.resellers.view import PlanMarginRow, UsageRow, usage_view
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.messages import attempt
from ezscale.state.reseller import ResellerState


class ResellerUsageState(ResellerState):
    month: str = ""
    months: list[str] = []
    hours_total: str = "0"
    revenue_total: str = ""
    by_customer: list[UsageRow] = []
    by_type: list[UsageRow] = []
    type_chart: list[dict] = []  # the chart's data points, as recharts takes them
    plans: list[PlanMarginRow] = []

    def _report(self, tenant: TenantInfo):
        today = clock.now().date()
        month = month_start(self.month, today=today)
        with tenant_session(tenant) as session:
            return usage_month(session, month=month, currency=tenant.currency)

    def _refresh(self, tenant: TenantInfo) -> None:
        report, self.error = attempt(lambda: self._report(tenant))
        if report is None:
            return
        self.months = recent_months(clock.now().date())
        self.month = f"{report.month:%Y-%m}"

        view = usage_view(report)
        self.hours_total, self.revenue_total = view.hours, view.revenue
        self.by_customer, self.by_type, self.plans = view.by_customer, view.by_type, view.plans
        self.type_chart = [{"name": u.label, "Hours": float(u.hours)} for u in report.by_type]

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            self._refresh(tenant)
        return redirect

    @rx.event
    def choose_month(self, month: str):
        if (who := self._owner()) is not None:
            self.month = month
            self._refresh(who[1])

    @rx.event
    def download(self):
        if (who := self._owner()) is None:
            return None
        report, self.error = attempt(lambda: self._report(who[1]))
        if report is None:
            return None
        name, text = usage_csv(report)
        return rx.download(data=text, filename=name)
