"""Platform admin → Analytics: a scope selector (platform or one tenant) over the snapshots."""

from datetime import timedelta

import reflex as rx

from ezscale import clock, routes
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.analytics import PLATFORM_SCOPE
from ezscale.services.analytics.converted import CurrencyRevenue, converted_revenue
from ezscale.services.analytics.dashboard import Scope, load_dashboard, scopes
from ezscale.services.analytics.view import (
    KeyFigure,
    MonthRow,
    chart_data,
    charts_without_data,
    key_figures,
    month_table,
)
from ezscale.state.admin import AdminState

_CHARTS = (
    "mrr",
    "movements",
    "customers",
    "churn",
    "revenue_daily",
    "revenue_monthly",
    "revenue_yearly",
    "usage",
    "conversion",
    "plans",
    "aging",
)


class AdminAnalyticsState(AdminState):
    scope: str = PLATFORM_SCOPE
    scope_options: list[Scope] = []
    charts: dict[str, list[dict]] = {name: [] for name in _CHARTS}
    figures: list[KeyFigure] = []
    empty_charts: list[str] = []
    months: list[MonthRow] = []
    computed_at: str = ""
    error: str = ""
    # Paid revenue of the last 30 days per invoice currency, converted at each invoice's rate.
    currency_rows: list[CurrencyRevenue] = []
    currency_total: str = ""
    currency_note: str = ""

    def _refresh(self) -> None:
        if self._admin() is None:
            self.denied = True
            return
        try:
            with central_session() as central:
                self.scope_options = scopes(central)
                keys = [s.key for s in self.scope_options]
                if self.scope not in keys and keys:
                    self.scope = keys[0]
                board = load_dashboard(central, scope_key=self.scope)
                now = clock.now()
                revenue = converted_revenue(central, since=now - timedelta(days=30), until=now)
        except DomainError as error:
            self.error = str(error)
            return
        self.error = ""
        self.charts = chart_data(board)
        self.empty_charts = charts_without_data(self.charts)
        self.figures = key_figures(board)
        self.months = month_table(board)
        self.currency_rows = revenue.rows
        self.currency_total = f"{revenue.total} ({revenue.platform})"
        self.currency_note = revenue.note
        self.computed_at = (
            f"{board.computed_at:%Y-%m-%d %H:%M} UTC (days up to {board.last_day:%Y-%m-%d})"
            if board.computed_at
            else "not computed yet"
        )

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed:
            self.scope = self.router.url.query_parameters.get("scope", self.scope)
            self._refresh()
        return redirect

    @rx.event
    def set_scope(self, scope: str):
        self.scope = scope
        self._refresh()

    @rx.var
    def report_query(self) -> str:
        return f"?scope={self.scope}"

    @rx.var
    def payments_href(self) -> str:
        """The payments report of the scope's tenant (every tenant for a platform scope)."""
        tenant = self.scope.removeprefix("tenant:")
        return routes.ADMIN_PAYMENTS + (f"?tenant={tenant}" if tenant.isdigit() else "")
