"""The payments report's widgets: the period form, the CSV link, the lines per month × gateway ×
currency, the totals per currency and the platform-currency net with what it means."""

import reflex as rx

from ezscale.components.tables import table

_LINE_COLUMNS = [
    ("Month", "month"),
    ("Gateway", "gateway"),
    ("Currency", "currency"),
    ("Succeeded", "succeeded"),
    ("Refunded", "refunded"),
    ("Failed", "failed"),
    ("Net", "net"),
]
_TOTAL_COLUMNS = [
    ("Currency", "currency"),
    ("Succeeded", "succeeded"),
    ("Refunded", "refunded"),
    ("Failed", "failed"),
    ("Net", "net"),
]


def period_form(state) -> rx.Component:
    """From / to dates, a Show button and the CSV download of what is shown."""
    return rx.form(
        rx.flex(
            rx.vstack(
                rx.text("From", size="2"),
                rx.input(
                    type="date", name="start", default_value=state.start, key=state.start, id="report-start"
                ),
                spacing="1",
            ),
            rx.vstack(
                rx.text("To", size="2"),
                rx.input(type="date", name="end", default_value=state.end, key=state.end, id="report-end"),
                spacing="1",
            ),
            rx.button("Show", type="submit", id="report-show"),
            # Reflex renders anchors as router links: `reloadDocument` lets the browser download.
            rx.el.a(
                "Download CSV",
                href=state.csv_href,
                download="payments.csv",
                id="report-csv",
                class_name="rt-Text rt-Link",
                custom_attrs={"reloadDocument": True},
                style={"color": "var(--accent-11)"},
            ),
            spacing="3",
            align="end",
            wrap="wrap",
        ),
        on_submit=state.apply,
        reset_on_submit=False,
        width="100%",
    )


def report_tables(state, *, with_tenant: bool) -> rx.Component:
    """The lines and totals, or the empty state."""
    columns = [("Tenant", "tenant"), *_LINE_COLUMNS] if with_tenant else _LINE_COLUMNS
    return rx.cond(
        state.lines.length() > 0,
        rx.vstack(
            rx.heading("By month, gateway and currency", size="4"),
            table(state.lines, columns, "report-lines"),
            rx.heading("Totals per currency", size="4"),
            table(state.totals, _TOTAL_COLUMNS, "report-totals"),
            rx.card(
                rx.text("Net in the platform currency", size="1", color_scheme="gray"),
                rx.text(state.platform_total, size="5", weight="bold", id="report-platform-total"),
                rx.text(state.platform_note, size="1", color_scheme="gray", id="report-platform-note"),
            ),
            width="100%",
            spacing="3",
        ),
        rx.callout(
            "No payments in this period.",
            icon="info",
            color_scheme="gray",
            id="report-empty",
        ),
    )
