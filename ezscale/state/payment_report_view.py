"""The payments report's view data, shared by the admin and the reseller report pages."""

from urllib.parse import urlencode

import reflex as rx

from ezscale.services.payments.report import PaymentReport
from ezscale.services.payments.report_view import ReportLineRow, ReportTotalRow, report_view


class PaymentReportView(rx.State, mixin=True):
    """Period, rows and totals of a payments report (formatted by the service)."""

    start: str = ""
    end: str = ""
    lines: list[ReportLineRow] = []
    totals: list[ReportTotalRow] = []
    platform_total: str = ""
    platform_note: str = ""
    loaded: bool = False

    def _show(self, report: PaymentReport | None) -> None:
        if report is None:
            self.lines, self.totals, self.loaded = [], [], False
            return
        view = report_view(report)
        self.start, self.end = f"{report.start:%Y-%m-%d}", f"{report.end:%Y-%m-%d}"
        self.lines, self.totals = view.lines, view.totals
        self.platform_total, self.platform_note = view.platform_total, view.platform_note
        self.loaded = True

    def _query(self, **extra: str) -> str:
        params = {"start": self.start, "end": self.end, **{k: v for k, v in extra.items() if v}}
        return "?" + urlencode(params)
