"""Reseller area → Payments: the reseller's own payments per gateway and currency, with CSV."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import error_callout
from ezscale.components.layout import Area, area_page
from ezscale.components.payment_report import period_form, report_tables
from ezscale.state.reseller_payment_report import ResellerPaymentReportState as S


@area_page(
    Area.RESELLER, route=routes.RESELLER_PAYMENT_REPORT, title="Payments", on_load=S.load, denied=S.denied
)
def page() -> rx.Component:
    return rx.vstack(
        rx.text("What your customers paid, per gateway and currency.", size="2"),
        error_callout(S.error, "payments-error"),
        rx.cond(S.loaded, rx.vstack(period_form(S), report_tables(S, with_tenant=False), width="100%")),
        width="100%",
        spacing="4",
    )
