"""The dashboard as page data: chart series (numbers for recharts) and formatted key figures.

Amounts stay exact until here; charts get major units as floats rounded to the cent (recharts
needs numbers), and every figure shown as text is formatted from the exact value.
"""

from dataclasses import dataclass
from decimal import Decimal

from ezscale.money import Money, minor_digits, round_minor
from ezscale.services.analytics.dashboard import Dashboard, MonthFigures


def money(minor: Decimal | int, currency: str) -> Money:
    """Minor units (possibly fractional, like MRR) → Money, rounded half-up to the cent."""
    return Money(round_minor(Decimal(minor).scaleb(-minor_digits(currency)), currency), currency)


def _chart(minor: Decimal | int, currency: str) -> float:
    return float(money(minor, currency).amount)


def _percent(rate: Decimal | None) -> str:
    return "–" if rate is None else f"{rate * 100:.2f}%"


def _month(m: MonthFigures) -> str:
    return f"{m.month:%b %Y}"


def chart_data(board: Dashboard) -> dict[str, list[dict]]:
    """Chart series of the dashboard, by chart name, as the chart components take them."""
    cur = board.scope.currency
    months = board.months
    return {
        "mrr": [{"month": _month(m), "MRR": _chart(m.mrr, cur), "ARR": _chart(m.arr, cur)} for m in months],
        "movements": [
            {
                "month": _month(m),
                "New": _chart(m.new_mrr, cur),
                "Expansion": _chart(m.expansion_mrr, cur),
                "Contraction": -_chart(m.contraction_mrr, cur),
                "Churned": -_chart(m.churned_mrr, cur),
                "Net new": _chart(m.net_new_mrr, cur),
            }
            for m in months
        ],
        "customers": [
            {"month": _month(m), "Paying customers": m.paying_customers, "Growth": m.customer_growth}
            for m in months
        ],
        "churn": [
            {
                "month": _month(m),
                "Logo churn %": float((m.logo_churn_rate or 0) * 100),
                "Revenue churn %": float((m.revenue_churn_rate or 0) * 100),
            }
            for m in months
        ],
        "revenue_daily": [{"day": f"{d:%d %b}", "Revenue": _chart(v, cur)} for d, v in board.days],
        "revenue_monthly": [{"month": _month(m), "Revenue": _chart(m.revenue_minor, cur)} for m in months],
        "revenue_yearly": [{"year": str(y), "Revenue": _chart(v, cur)} for y, v in board.years],
        "usage": [
            {
                "month": _month(m),
                "Hours": float(round(Decimal(m.usage_seconds) / 3600, 2)),
                "Usage revenue": _chart(m.usage_revenue_minor, cur),
            }
            for m in months
        ],
        "conversion": [
            {
                "month": _month(m),
                "Sign-ups": m.signups,
                "First purchases": m.first_purchases,
                "Conversion %": float((m.conversion_rate or 0) * 100),
            }
            for m in months
        ],
        "plans": [{"plan": name, "Active": n} for name, n in board.plans],
        "aging": [{"bucket": label, "Amount": _chart(v, cur)} for label, v in board.aging],
    }


def charts_without_data(charts: dict[str, list[dict]]) -> list[str]:
    """Charts with nothing to draw (no rows, or every number zero): the page says so instead."""
    return [
        name
        for name, rows in charts.items()
        if not any(isinstance(v, int | float) and v for row in rows for v in row.values())
    ]


@dataclass(frozen=True)
class KeyFigure:
    """One key-figure tile of the dashboard."""

    id: str
    label: str
    value: str


@dataclass(frozen=True)
class MonthRow:
    """One month of the table under the charts, as text."""

    month: str
    mrr: str
    arr: str
    new: str
    expansion: str
    contraction: str
    churned: str
    customers: str
    logo_churn: str
    revenue_churn: str
    revenue: str
    usage_hours: str
    conversion: str


def key_figures(board: Dashboard) -> list[KeyFigure]:
    """The key-figure tiles (label, value) of the dashboard, formatted."""
    cur = board.scope.currency
    last = board.months[-1] if board.months else None
    rows = [
        ("mrr", "MRR", money(last.mrr, cur).format() if last else "–"),
        ("arr", "ARR", money(last.arr, cur).format() if last else "–"),
        ("net-new", "Net new MRR (month)", money(last.net_new_mrr, cur).format() if last else "–"),
        ("customers", "Paying customers", str(last.paying_customers) if last else "–"),
        ("logo-churn", "Logo churn (month)", _percent(last.logo_churn_rate) if last else "–"),
        ("revenue-churn", "Revenue churn (month)", _percent(last.revenue_churn_rate) if last else "–"),
        ("outstanding", "Outstanding", money(board.outstanding_minor, cur).format()),
        ("overdue", "Overdue", money(board.overdue_minor, cur).format()),
        ("today-revenue", "Revenue today (live)", money(board.live.today_revenue_minor, cur).format()),
        ("active-orders", "Active orders (live)", str(board.live.active_orders)),
    ]
    return [KeyFigure(key, label, value) for key, label, value in rows]


def month_table(board: Dashboard) -> list[MonthRow]:
    """The monthly figures as text, newest first, for the table under the charts."""
    cur = board.scope.currency
    return [
        MonthRow(
            month=_month(m),
            mrr=money(m.mrr, cur).format(),
            arr=money(m.arr, cur).format(),
            new=money(m.new_mrr, cur).format(),
            expansion=money(m.expansion_mrr, cur).format(),
            contraction=money(m.contraction_mrr, cur).format(),
            churned=money(m.churned_mrr, cur).format(),
            customers=str(m.paying_customers),
            logo_churn=_percent(m.logo_churn_rate),
            revenue_churn=_percent(m.revenue_churn_rate),
            revenue=money(m.revenue_minor, cur).format(),
            usage_hours=f"{Decimal(m.usage_seconds) / 3600:.2f}",
            conversion=_percent(m.conversion_rate),
        )
        for m in reversed(board.months)
    ]
