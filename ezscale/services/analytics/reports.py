"""Admin reports as CSV: revenue by period, plan and service type, tax, aging, refunds,
subscription metrics. Per tenant or platform-wide (a tenant column on every line item report).

Period reports read the daily snapshots; line reports read the tenant databases over the range.
Amounts are exact decimals in major units with their currency.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.analytics import PLATFORM_SCOPE, AnalyticsDay, tenant_scope
from ezscale.models.billing import Payment
from ezscale.models.tenant import Invoice, InvoiceItem, InvoiceKind, InvoiceStatus, Plan, Service, User
from ezscale.services.analytics.dashboard import MonthFigures, fold_months
from ezscale.services.analytics.metrics import AGING_BUCKETS, aging_bucket, day_start
from ezscale.services.analytics.snapshots import reporting_tenants
from ezscale.services.analytics.view import money
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

# A report is a header row then data rows, written out by the csv module.
CsvRows = Iterator[list[object]]
Builder = Callable[[Session, list[TenantInfo], str, date, date], CsvRows]

REPORTS = [
    ("revenue-by-day", "Revenue by day"),
    ("revenue-by-month", "Revenue by month"),
    ("revenue-by-year", "Revenue by year"),
    ("revenue-by-plan", "Revenue by plan"),
    ("revenue-by-service", "Revenue by service type"),
    ("tax", "Tax by country and rate"),
    ("aging", "Aging"),
    ("refunds", "Refunds and credit notes"),
    ("subscriptions", "Subscription metrics"),
]


def _amount(minor: Decimal | int, currency: str) -> str:
    return str(money(minor, currency).amount)


def _tenants(central: Session, scope_key: str) -> list[TenantInfo]:
    tenants = reporting_tenants(central)
    if scope_key == PLATFORM_SCOPE:
        return tenants
    if scope_key.startswith(PLATFORM_SCOPE + ":"):
        return [t for t in tenants if t.currency == scope_key.split(":", 1)[1]]
    chosen = [t for t in tenants if tenant_scope(t.id) == scope_key]
    if not chosen:
        raise DomainError("Unknown report scope.")
    return chosen


def _snapshot_rows(
    central: Session, tenants: list[TenantInfo], scope_key: str, start: date, end: date
) -> Iterator[tuple[str, list[AnalyticsDay]]]:
    """(currency, day rows) of the scope, per currency."""
    stored = PLATFORM_SCOPE if scope_key.startswith(PLATFORM_SCOPE) else scope_key
    for currency in sorted({t.currency for t in tenants}):
        rows = central.exec(
            select(AnalyticsDay)
            .where(
                col(AnalyticsDay.scope) == stored,
                col(AnalyticsDay.currency) == currency,
                col(AnalyticsDay.day) >= start,
                col(AnalyticsDay.day) <= end,
            )
            .order_by(col(AnalyticsDay.day))
        ).all()
        yield currency, list(rows)


def _snapshot_months(
    central: Session, tenants: list[TenantInfo], scope_key: str, start: date, end: date
) -> Iterator[tuple[str, MonthFigures]]:
    for currency, rows in _snapshot_rows(central, tenants, scope_key, start, end):
        for month in fold_months(rows):
            yield currency, month


def _revenue_by(period: str) -> Builder:
    """Revenue per day, month or year from the snapshots (paid invoices, before tax)."""
    label = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[period]

    def report(
        central: Session, tenants: list[TenantInfo], scope_key: str, start: date, end: date
    ) -> CsvRows:
        yield [period, "currency", "revenue_net", "tax", "invoices_paid", "kasm_usage_revenue"]
        for currency, rows in _snapshot_rows(central, tenants, scope_key, start, end):
            totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
            for row in rows:
                total = totals[f"{row.day:{label}}"]
                for n, value in enumerate(
                    (row.revenue_minor, row.tax_minor, row.invoices_paid, row.usage_revenue_minor)
                ):
                    total[n] += value
            for key, (revenue, tax, paid, usage) in totals.items():
                yield [
                    key,
                    currency,
                    _amount(revenue, currency),
                    _amount(tax, currency),
                    paid,
                    _amount(usage, currency),
                ]

    return report


def _subscriptions(
    central: Session, tenants: list[TenantInfo], scope_key: str, start: date, end: date
) -> CsvRows:
    yield [
        "month", "currency", "mrr", "arr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
        "net_new_mrr", "paying_customers", "customer_growth", "logo_churn_rate", "revenue_churn_rate",
        "signups", "first_purchases", "conversion_rate",
    ]  # fmt: skip
    for cur, m in _snapshot_months(central, tenants, scope_key, start, end):
        yield [
            f"{m.month:%Y-%m}",
            cur,
            str(m.mrr),
            str(m.arr),
            str(m.new_mrr),
            str(m.expansion_mrr),
            str(m.contraction_mrr),
            str(m.churned_mrr),
            str(m.net_new_mrr),
            m.paying_customers,
            m.customer_growth,
            m.logo_churn_rate,
            m.revenue_churn_rate,
            m.signups,
            m.first_purchases,
            m.conversion_rate,
        ]


def _paid_in(since: datetime, until: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Invoice.kind) == InvoiceKind.INVOICE,
        col(Invoice.status) == InvoiceStatus.PAID,
        col(Invoice.paid_at) >= since,
        col(Invoice.paid_at) < until,
    )


def _revenue_by_item(group: str) -> Builder:
    """Revenue per plan or service type, from the lines of invoices paid in the period."""

    def report(
        central: Session, tenants: list[TenantInfo], scope_key: str, start: date, end: date
    ) -> CsvRows:
        since, until = day_start(start), day_start(end) + timedelta(days=1)
        head = ["plan_code", "plan", "service_type"] if group == "plan" else ["service_type"]
        yield ["tenant", *head, "currency", "revenue_net", "lines"]
        for tenant in tenants:
            with tenant_session(tenant) as db:
                rows = db.exec(
                    select(  # type: ignore[call-overload]  # sqlmodel types up to 4 columns
                        col(Plan.code),
                        col(Plan.name),
                        col(Plan.service_type),
                        func.sum(col(InvoiceItem.amount_minor)),
                        func.count(),
                    )
                    .select_from(InvoiceItem)
                    .join(Invoice, col(Invoice.id) == col(InvoiceItem.invoice_id))
                    .outerjoin(Service, col(Service.id) == col(InvoiceItem.service_id))
                    .outerjoin(Plan, col(Plan.id) == col(Service.plan_id))
                    .where(*_paid_in(since, until))
                    .group_by(col(Plan.code), col(Plan.name), col(Plan.service_type))
                ).all()
            totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
            for code, name, kind, amount, lines in rows:
                kind = kind.value if kind else "other"
                key = (code or "-", name or "(no plan)", kind) if group == "plan" else (kind,)
                totals[key][0] += int(amount)
                totals[key][1] += lines
            for key, (amount, lines) in sorted(totals.items()):
                yield [tenant.slug, *key, tenant.currency, _amount(amount, tenant.currency), lines]

    return report


def _tax(central: Session, tenants: list[TenantInfo], scope_key: str, start: date, end: date) -> CsvRows:
    since, until = day_start(start), day_start(end) + timedelta(days=1)
    yield [
        "tenant",
        "country",
        "tax",
        "rate_percent",
        "reverse_charge",
        "currency",
        "invoices",
        "net",
        "tax_amount",
    ]
    for tenant in tenants:
        with tenant_session(tenant) as db:
            rows = db.exec(
                select(  # type: ignore[call-overload]  # sqlmodel types up to 4 columns
                    col(User.country),
                    col(Invoice.tax_label),
                    col(Invoice.tax_rate_percent),
                    col(Invoice.reverse_charge),
                    func.count(),
                    func.sum(col(Invoice.subtotal_minor)),
                    func.sum(col(Invoice.tax_minor)),
                )
                .join(User, col(User.id) == col(Invoice.user_id))
                .where(*_paid_in(since, until))
                .group_by(
                    col(User.country),
                    col(Invoice.tax_label),
                    col(Invoice.tax_rate_percent),
                    col(Invoice.reverse_charge),
                )
                .order_by(col(User.country), col(Invoice.tax_rate_percent))
            ).all()
        for country, label, rate, reverse, count, net, tax in rows:
            cur = tenant.currency
            yield [
                tenant.slug,
                country or "-",
                label,
                str(rate),
                reverse,
                cur,
                count,
                _amount(net, cur),
                _amount(tax, cur),
            ]


def _aging(central: Session, tenants: list[TenantInfo], scope_key: str, start: date, end: date) -> CsvRows:
    now = clock.now()
    yield [
        "tenant",
        "invoice",
        "customer",
        "issued",
        "due",
        "days_past_due",
        "bucket",
        "currency",
        "amount_due",
    ]
    for tenant in tenants:
        with tenant_session(tenant) as db:
            rows = db.exec(
                select(Invoice, col(User.email))
                .join(User, col(User.id) == col(Invoice.user_id))
                .where(col(Invoice.kind) == InvoiceKind.INVOICE, col(Invoice.status) == InvoiceStatus.OPEN)
                .order_by(col(Invoice.due_at))
            ).all()
        for invoice, email in rows:
            due = invoice.due_at or invoice.issued_at
            past = max((now - due).days, 0) if due else 0
            left = (
                invoice.total_minor
                - invoice.credit_applied_minor
                - invoice.amount_paid_minor
                - invoice.credited_minor
            )
            if left > 0:
                yield [
                    tenant.slug,
                    invoice.number,
                    email,
                    f"{invoice.issued_at:%Y-%m-%d}" if invoice.issued_at else "",
                    f"{due:%Y-%m-%d}" if due else "",
                    past,
                    AGING_BUCKETS[aging_bucket(past)],
                    invoice.currency,
                    _amount(left, invoice.currency),
                ]


def _refunds(central: Session, tenants: list[TenantInfo], scope_key: str, start: date, end: date) -> CsvRows:
    since, until = day_start(start), day_start(end) + timedelta(days=1)
    yield ["tenant", "kind", "reference", "customer", "date", "currency", "amount"]
    for tenant in tenants:
        with tenant_session(tenant) as db:
            notes = db.exec(
                select(Invoice, col(User.email))
                .join(User, col(User.id) == col(Invoice.user_id))
                .where(
                    col(Invoice.kind) == InvoiceKind.CREDIT_NOTE,
                    col(Invoice.issued_at) >= since,
                    col(Invoice.issued_at) < until,
                )
                .order_by(col(Invoice.issued_at))
            ).all()
            refunds = db.exec(
                select(Payment, col(User.email))
                .join(User, col(User.id) == col(Payment.user_id))
                .where(
                    col(Payment.refunded_minor) > 0,
                    col(Payment.updated_at) >= since,
                    col(Payment.updated_at) < until,
                )
                .order_by(col(Payment.updated_at))
            ).all()
        for note, email in notes:
            yield [
                tenant.slug,
                "credit_note",
                note.number,
                email,
                f"{note.issued_at:%Y-%m-%d}",
                note.currency,
                _amount(abs(note.total_minor), note.currency),
            ]
        for payment, email in refunds:
            yield [
                tenant.slug,
                "card_refund",
                f"payment {payment.id}",
                email,
                f"{payment.updated_at:%Y-%m-%d}",
                payment.currency,
                _amount(payment.refunded_minor, payment.currency),
            ]


_BUILDERS: dict[str, Builder] = {
    "revenue-by-day": _revenue_by("day"),
    "revenue-by-month": _revenue_by("month"),
    "revenue-by-year": _revenue_by("year"),
    "revenue-by-plan": _revenue_by_item("plan"),
    "revenue-by-service": _revenue_by_item("service"),
    "tax": _tax,
    "aging": _aging,
    "refunds": _refunds,
    "subscriptions": _subscriptions,
}


def default_range(today: date) -> tuple[date, date]:
    """The last twelve months up to yesterday."""
    first = (today.replace(day=1) - timedelta(days=365)).replace(day=1)
    return first, today - timedelta(days=1)


def build_report(central: Session, *, name: str, scope_key: str, start: date, end: date) -> str:
    """The report as CSV text."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise NotFound("No such report.")
    if end < start:
        raise DomainError("The report period ends before it starts.")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(builder(central, _tenants(central, scope_key), scope_key, start, end))
    return out.getvalue()
