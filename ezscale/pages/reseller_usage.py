"""Reseller area → usage: a month's workspace hours and revenue by customer and type (chart and
tables), active services and margin per plan, and the month as CSV."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import choice, error_callout
from ezscale.components.layout import Area, area_page
from ezscale.components.tables import table
from ezscale.state.reseller_usage import ResellerUsageState as S


def _figure(label: str, value) -> rx.Component:
    return rx.card(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="5", weight="bold"))


def _type_chart() -> rx.Component:
    return rx.cond(
        S.type_chart.length() > 0,
        rx.recharts.bar_chart(
            rx.recharts.bar(
                rx.recharts.label_list(data_key="Hours", position="right"),
                data_key="Hours",
                fill="#2563EB",
                is_animation_active=False,
            ),
            rx.recharts.x_axis(type_="number"),
            rx.recharts.y_axis(data_key="name", type_="category", width=150),
            rx.recharts.graphing_tooltip(),
            data=S.type_chart,
            layout="vertical",
            width="100%",
            height=220,
        ),
        rx.text("No workspace ran this month.", color_scheme="gray", size="2", id="no-usage"),
    )


@area_page(Area.RESELLER, route=routes.RESELLER_USAGE, title="Usage", on_load=S.load, denied=S.denied)
def usage_page() -> rx.Component:
    return rx.vstack(
        error_callout(S.error, "reseller-error"),
        rx.hstack(
            choice(S.months, value=S.month, on_change=S.choose_month, aria_label="Month", id="usage-month"),
            rx.button("Download CSV", on_click=S.download, variant="soft", id="usage-csv"),
            wrap="wrap",
        ),
        rx.hstack(
            _figure("Workspace hours", S.hours_total),
            _figure("Workspace revenue", S.revenue_total),
            wrap="wrap",
        ),
        rx.heading("Hours by workspace type", size="4"),
        _type_chart(),
        table(S.by_type, [("Type", "name"), ("Hours", "hours"), ("Revenue", "revenue")], "usage-types"),
        rx.heading("By customer", size="4"),
        table(
            S.by_customer,
            [("Customer", "name"), ("Hours", "hours"), ("Revenue", "revenue")],
            "usage-customers",
            "No workspace usage by any customer this month.",
        ),
        rx.heading("Plans: active services and your margin", size="4"),
        table(
            S.plans,
            [
                ("Plan", "plan"),
                ("Active", "active"),
                ("Your price", "retail"),
                ("Wholesale", "wholesale"),
                ("Margin", "margin"),
                ("Margin / month", "monthly"),
            ],
            "usage-plans",
            "No plans yet.",
        ),
        width="100%",
        spacing="3",
    )
