"""Platform admin → Payments: the payments report of all tenants or one (linked from Analytics)."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import error_callout
from ezscale.components.layout import Area, area_page
from ezscale.components.payment_report import period_form, report_tables
from ezscale.state.admin_payments import ALL
from ezscale.state.admin_payments import AdminPaymentsState as S


@area_page(Area.ADMIN, route=routes.ADMIN_PAYMENTS, title="Payments", on_load=S.load, denied=S.denied)
def page() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Payments succeeded, refunded and failed per gateway and currency. Amounts stay in their "
            "own currency; only the platform net is converted, at each invoice's recorded rate.",
            size="2",
        ),
        error_callout(S.error, "payments-error"),
        rx.select.root(
            rx.select.trigger(id="report-tenant", aria_label="Tenant"),
            rx.select.content(
                rx.select.item("All tenants", value=ALL),
                rx.foreach(S.tenants, lambda t: rx.select.item(t.label, value=t.id.to_string())),
            ),
            value=S.tenant,
            on_change=S.choose_tenant,
        ),
        period_form(S),
        report_tables(S, with_tenant=True),
        width="100%",
        spacing="4",
    )
