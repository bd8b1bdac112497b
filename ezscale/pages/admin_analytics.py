"""Platform admin → Analytics: key figures, recharts charts, monthly table, definitions, CSVs."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_page
from ezscale.services.analytics.metrics import DEFINITIONS
from ezscale.services.analytics.reports import REPORTS
from ezscale.state.admin_analytics import AdminAnalyticsState as S

_COLOURS = ("#2563EB", "#16A34A", "#F59E0B", "#DC2626", "#7C3AED")


def _figure(f: dict) -> rx.Component:
    return rx.card(
        rx.text(f["label"], size="1", color_scheme="gray"),
        rx.text(f["value"], size="5", weight="bold", id="kpi-" + f["id"]),
        min_width="150px",
    )


def _axes(x_key: str) -> list[rx.Component]:
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
        rx.recharts.x_axis(data_key=x_key),
        rx.recharts.y_axis(),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
    ]


def _bars(name: str, x_key: str, keys: list[str], *, stacked: bool = False) -> rx.Component:
    series = [
        rx.recharts.bar(
            data_key=k, fill=_COLOURS[i % 5], stack_id="s" if stacked else None, is_animation_active=False
        )
        for i, k in enumerate(keys)
    ]
    # "sign" (not in Reflex's list of offsets): gains stack above zero, losses below it.
    extra = {"custom_attrs": {"stackOffset": "sign"}} if stacked else {}
    return rx.recharts.bar_chart(
        *series, *_axes(x_key), data=S.charts[name], width="100%", height=260, **extra
    )


def _lines(name: str, x_key: str, keys: list[str]) -> rx.Component:
    series = [
        rx.recharts.line(data_key=k, stroke=_COLOURS[i % 5], is_animation_active=False)
        for i, k in enumerate(keys)
    ]
    return rx.recharts.line_chart(*series, *_axes(x_key), data=S.charts[name], width="100%", height=260)


def _plan_bars() -> rx.Component:
    """Plans as horizontal bars, one labelled row each (a vertical axis would skip names)."""
    return rx.recharts.bar_chart(
        rx.recharts.bar(
            rx.recharts.label_list(data_key="Active", position="right"),
            data_key="Active",
            fill=_COLOURS[0],
            is_animation_active=False,
        ),
        rx.recharts.x_axis(type_="number", allow_decimals=False),
        rx.recharts.y_axis(data_key="plan", type_="category", interval=0, width=150),
        rx.recharts.graphing_tooltip(),
        data=S.charts["plans"],
        layout="vertical",
        width="100%",
        height=rx.cond(S.charts["plans"].length() > 6, S.charts["plans"].length() * 34 + 40, 260),
    )


def _chart_card(title: str, chart: rx.Component, chart_id: str, name: str) -> rx.Component:
    empty = rx.center(
        rx.text(
            "No data for this chart yet: it fills in as the daily analytics run records activity.",
            color_scheme="gray",
            size="2",
            id=f"{chart_id}-empty",
        ),
        height="260px",
    )
    return rx.card(
        rx.heading(title, size="3"),
        rx.cond(S.empty_charts.contains(name), empty, chart),
        id=chart_id,
        width="100%",
    )


def _charts() -> rx.Component:
    return rx.grid(
        _chart_card("MRR and ARR", _lines("mrr", "month", ["MRR", "ARR"]), "chart-mrr", "mrr"),
        _chart_card(
            "Net new MRR",
            _bars("movements", "month", ["New", "Expansion", "Contraction", "Churned"], stacked=True),
            "chart-movements",
            "movements",
        ),
        _chart_card(
            "Paying customers",
            _bars("customers", "month", ["Paying customers", "Growth"]),
            "chart-customers",
            "customers",
        ),
        _chart_card(
            "Churn", _lines("churn", "month", ["Logo churn %", "Revenue churn %"]), "chart-churn", "churn"
        ),
        _chart_card(
            "Revenue per day (last 30)",
            _bars("revenue_daily", "day", ["Revenue"]),
            "chart-revenue-daily",
            "revenue_daily",
        ),
        _chart_card(
            "Revenue per month",
            _bars("revenue_monthly", "month", ["Revenue"]),
            "chart-revenue-monthly",
            "revenue_monthly",
        ),
        _chart_card(
            "Revenue per year",
            _bars("revenue_yearly", "year", ["Revenue"]),
            "chart-revenue-yearly",
            "revenue_yearly",
        ),
        _chart_card(
            "Kasm usage", _bars("usage", "month", ["Hours", "Usage revenue"]), "chart-usage", "usage"
        ),
        _chart_card("Popular plans", _plan_bars(), "chart-plans", "plans"),
        _chart_card(
            "Conversion",
            _bars("conversion", "month", ["Sign-ups", "First purchases"]),
            "chart-conversion",
            "conversion",
        ),
        _chart_card(
            "Outstanding by age (days past due)", _bars("aging", "bucket", ["Amount"]), "chart-aging", "aging"
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="4",
        width="100%",
    )


_MONTH_COLUMNS = (
    ("Month", "month"),
    ("MRR", "mrr"),
    ("ARR", "arr"),
    ("New", "new"),
    ("Expansion", "expansion"),
    ("Contraction", "contraction"),
    ("Churned", "churned"),
    ("Paying", "customers"),
    ("Logo churn", "logo_churn"),
    ("Revenue churn", "revenue_churn"),
    ("Revenue", "revenue"),
    ("Kasm hours", "usage_hours"),
    ("Conversion", "conversion"),
)


def _month_table() -> rx.Component:
    """Thirteen columns: the table scrolls inside its own box rather than widening the page."""
    return rx.box(_month_rows(), overflow_x="auto", width="100%")


def _month_rows() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h, _ in _MONTH_COLUMNS])),
        rx.table.body(
            rx.foreach(
                S.months,
                lambda m: rx.table.row(
                    *[rx.table.cell(m[k]) for _, k in _MONTH_COLUMNS], data_month=m["month"]
                ),
            )
        ),
        size="1",
        width="100%",
        white_space="nowrap",
        id="month-table",
    )


_CURRENCY_COLUMNS = (
    ("Invoice currency", "currency"),
    ("Paid invoices", "invoices"),
    ("Revenue", "revenue"),
    ("In platform currency", "converted"),
    ("Without a rate", "unconverted"),
)


def _currencies() -> rx.Component:
    """Revenue by invoice currency, converted at each invoice's recorded rate (said so)."""
    table = rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h, _ in _CURRENCY_COLUMNS])),
        rx.table.body(
            rx.foreach(
                S.currency_rows,
                lambda r: rx.table.row(*[rx.table.cell(getattr(r, k)) for _, k in _CURRENCY_COLUMNS]),
            )
        ),
        size="1",
        width="100%",
        white_space="nowrap",
        id="currency-table",
    )
    return rx.vstack(
        rx.heading("Revenue by currency (last 30 days)", size="4"),
        rx.text(S.currency_note, size="2", color_scheme="gray", id="currency-note"),
        rx.cond(
            S.currency_rows.length() > 0,
            rx.vstack(
                rx.box(table, overflow_x="auto", width="100%"),
                rx.text("Total: ", S.currency_total, weight="medium", id="currency-total"),
                width="100%",
            ),
            rx.text("No paid invoices in the last 30 days.", size="2", id="currency-empty"),
        ),
        width="100%",
    )


def _reports() -> rx.Component:
    return rx.hstack(
        rx.text("CSV reports:", weight="medium"),
        *[
            # Reflex renders anchors as router links: `reloadDocument` lets the browser download.
            rx.el.a(
                label,
                href=routes.ADMIN_REPORTS + "/" + name + ".csv" + S.report_query,
                download=f"{name}.csv",
                id=f"report-{name}",
                class_name="rt-Text rt-Link",
                custom_attrs={"reloadDocument": True},
                style={"color": "var(--accent-11)"},
            )
            for name, label in REPORTS
        ],
        rx.link("Payments by gateway and currency", href=S.payments_href, id="payments-report-link"),
        wrap="wrap",
        spacing="3",
    )


def _dashboard() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.select.root(
                rx.select.trigger(id="scope-select"),
                rx.select.content(
                    rx.foreach(S.scope_options, lambda o: rx.select.item(o.label, value=o.key))
                ),
                value=S.scope,
                on_change=S.set_scope,
            ),
            rx.text("Figures computed ", S.computed_at, size="2", color_scheme="gray", id="computed-at"),
            align="center",
            spacing="4",
            wrap="wrap",
        ),
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red")),
        rx.flex(rx.foreach(S.figures, _figure), wrap="wrap", spacing="3"),
        _charts(),
        rx.heading("Monthly figures", size="4"),
        rx.box(_month_table(), overflow_x="auto", width="100%"),
        _currencies(),
        _reports(),
        rx.heading("Definitions", size="4"),
        rx.unordered_list(*[rx.list_item(d) for d in DEFINITIONS], id="definitions"),
        spacing="4",
        width="100%",
    )


@area_page(Area.ADMIN, route=routes.ADMIN_ANALYTICS, title="Analytics", on_load=S.load, denied=S.denied)
def page() -> rx.Component:
    return _dashboard()
