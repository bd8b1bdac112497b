"""The payments report: per month, gateway and currency, how many payments succeeded, were
refunded and failed, their amounts and the net taken — for one tenant (a reseller's own, or one
chosen by a platform admin) or every tenant.

Amounts stay in the payment's own currency; currencies are never added together. The one
cross-currency figure is the platform-currency total, each payment's net converted at the rate
recorded on its invoice (never today's rate) and labelled so; a payment without such a rate is
counted as unconverted and left out of it. A payment belongs to the month it was made in; its
refunds are counted in that month too (so a month's net is what its payments still hold)."""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from ezscale.errors import DomainError
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import Invoice
from ezscale.money import Money
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.analytics.metrics import day_start
from ezscale.services.analytics.snapshots import reporting_tenants
from ezscale.services.fx.conversion import convert_back_minor
from ezscale.services.payments.gateway import LABELS, GatewayName
from ezscale.services.resellers.roles import may_see_payments
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings

MAX_DAYS = 3 * 366


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One month × gateway × currency (× tenant on the platform report); amounts in minor units
    of `currency`."""

    tenant: str
    month: date
    gateway: str
    currency: str
    succeeded: int
    succeeded_minor: int
    refunded: int
    refunded_minor: int
    failed: int
    failed_minor: int

    @property
    def net_minor(self) -> int:
        """What the month's payments still hold: taken less refunded."""
        return self.succeeded_minor - self.refunded_minor


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    """The whole period in one currency."""

    currency: str
    succeeded: int
    succeeded_minor: int
    refunded_minor: int
    failed: int
    failed_minor: int

    @property
    def net_minor(self) -> int:
        """Taken less refunded over the period."""
        return self.succeeded_minor - self.refunded_minor


@dataclass(frozen=True, slots=True)
class PaymentReport:
    """The report of `start`..`end` (inclusive): lines, totals per currency, and the net in the
    platform currency at each invoice's recorded rate (`unconverted` payments left out)."""

    scope: str
    start: date
    end: date
    lines: list[ReportLine]
    totals: list[CurrencyTotal]
    platform: str
    platform_net_minor: int
    unconverted: int

    @property
    def empty(self) -> bool:
        """No payment succeeded or failed in the period."""
        return not self.lines

    @property
    def platform_note(self) -> str:
        """What the platform total is, said next to it."""
        note = f"Net in {self.platform}, each payment converted at the rate recorded on its invoice."
        if self.unconverted:
            note += f" {self.unconverted} payment(s) without a recorded rate are left out."
        return note


def _platform_minor(
    minor: int, currency: str, fx_currency: str | None, fx_rate: str | None, platform: str
) -> int | None:
    """`minor` of `currency` in the platform currency at the invoice's recorded rate, or None."""
    if currency == platform:
        return minor
    if not fx_rate or (fx_currency or "").upper() != platform:
        return None
    return convert_back_minor(minor, currency=currency, target=platform, rate=Decimal(fx_rate))


def check_range(start: date, end: date) -> None:
    """Refuse a period that ends before it starts or spans more than three years."""
    if end < start:
        raise DomainError("The report period ends before it starts.")
    if (end - start).days > MAX_DAYS:
        raise DomainError("Choose a period of at most three years.")


def _tenant_rows(db: Session, *, start: date, end: date) -> list[tuple]:
    since, until = day_start(start), day_start(end) + timedelta(days=1)
    return list(
        db.exec(
            select(  # type: ignore[call-overload]  # sqlmodel types up to 4 columns
                col(Payment.created_at),
                col(Payment.gateway),
                col(Payment.currency),
                col(Payment.status),
                col(Payment.amount_minor),
                col(Payment.refunded_minor),
                col(Invoice.fx_platform_currency),
                col(Invoice.fx_platform_rate),
            )
            .select_from(Payment)
            .outerjoin(Invoice, col(Invoice.id) == col(Payment.invoice_id))
            .where(
                col(Payment.status) != PaymentStatus.PENDING,
                col(Payment.created_at) >= since,
                col(Payment.created_at) < until,
            )
        ).all()
    )


class _Fold:
    """Adds payment rows up into report lines, totals and the platform net."""

    def __init__(self) -> None:
        self.platform = get_settings().default_currency.upper()
        self.lines: dict[tuple[str, date, str, str], list[int]] = defaultdict(lambda: [0] * 6)
        self.totals: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
        self.platform_net = 0
        self.unconverted = 0

    def add(self, tenant: str, rows: list[tuple]) -> None:
        for created, gateway, currency, status, amount, refunded, fx_currency, fx_rate in rows:
            currency = currency.upper()
            month = date(created.year, created.month, 1)
            line = self.lines[(tenant, month, gateway, currency)]
            total = self.totals[currency]
            if status == PaymentStatus.FAILED:
                line[4] += 1
                line[5] += amount
                total[3] += 1
                total[4] += amount
                continue
            line[0] += 1
            line[1] += amount
            total[0] += 1
            total[1] += amount
            if refunded:
                line[2] += 1
                line[3] += refunded
                total[2] += refunded
            value = _platform_minor(amount - refunded, currency, fx_currency, fx_rate, self.platform)
            if value is None:
                self.unconverted += 1
            else:
                self.platform_net += value

    def report(self, scope: str, start: date, end: date) -> PaymentReport:
        lines = [
            ReportLine(tenant, month, gateway, currency, *figures)
            for (tenant, month, gateway, currency), figures in self.lines.items()
        ]
        lines.sort(key=lambda r: (r.tenant, r.gateway, r.currency))
        lines.sort(key=lambda r: r.month, reverse=True)  # newest month first, stable within it
        totals = [CurrencyTotal(code, *figures) for code, figures in sorted(self.totals.items())]
        return PaymentReport(
            scope=scope,
            start=start,
            end=end,
            lines=lines,
            totals=totals,
            platform=self.platform,
            platform_net_minor=self.platform_net,
            unconverted=self.unconverted,
        )


def tenant_report(db: Session, *, tenant: TenantInfo, start: date, end: date) -> PaymentReport:
    """One tenant's payments (its own database only)."""
    check_range(start, end)
    fold = _Fold()
    fold.add(tenant.slug, _tenant_rows(db, start=start, end=end))
    return fold.report(tenant.slug, start, end)


def reseller_report(
    db: Session, *, actor: AuthUser, tenant: TenantInfo, start: date, end: date
) -> PaymentReport:
    """A reseller's own payments, for its owner and billing staff (and platform admins)."""
    if not may_see_payments(actor, tenant.id):
        raise DomainError("Only the owner and billing staff can see the payments report.")
    return tenant_report(db, tenant=tenant, start=start, end=end)


def platform_report(
    central: Session, *, actor: AuthUser, tenant_id: int | None, start: date, end: date
) -> PaymentReport:
    """Every tenant's payments (tenant_id None) or one tenant's, for a platform admin."""
    if not actor.is_admin:
        raise DomainError("Only a platform admin can see every tenant's payments.")
    check_range(start, end)
    tenants = reporting_tenants(central)
    if tenant_id is not None:
        tenants = [t for t in tenants if t.id == tenant_id]
        if not tenants:
            raise DomainError("No such tenant.")
    fold = _Fold()
    for tenant in tenants:
        with tenant_session(tenant) as db:
            fold.add(tenant.slug, _tenant_rows(db, start=start, end=end))
    return fold.report(tenants[0].slug if tenant_id is not None else "all", start, end)


def gateway_label(gateway: str) -> str:
    """How pages name a gateway ("Card", "PayPal"…)."""
    try:
        return LABELS[GatewayName(gateway)]
    except ValueError:
        return gateway


def _amount(minor: int, currency: str) -> str:
    return str(Money(minor, currency).amount)


def report_csv(report: PaymentReport, *, with_tenant: bool) -> tuple[str, str]:
    """(file name, CSV text): one row per line, amounts as exact decimals in major units of the
    row's currency, then one total row per currency and the converted platform net."""
    out = io.StringIO()
    writer = csv.writer(out)
    head = ["month", "gateway", "currency", "succeeded", "succeeded_amount", "refunded", "refunded_amount"]
    head += ["failed", "failed_amount", "net"]
    writer.writerow(["tenant", *head] if with_tenant else head)
    for line in report.lines:
        row = [
            f"{line.month:%Y-%m}",
            line.gateway,
            line.currency,
            line.succeeded,
            _amount(line.succeeded_minor, line.currency),
            line.refunded,
            _amount(line.refunded_minor, line.currency),
            line.failed,
            _amount(line.failed_minor, line.currency),
            _amount(line.net_minor, line.currency),
        ]
        writer.writerow([line.tenant, *row] if with_tenant else row)
    for total in report.totals:
        row = [
            "total",
            "all",
            total.currency,
            total.succeeded,
            _amount(total.succeeded_minor, total.currency),
            "",
            _amount(total.refunded_minor, total.currency),
            total.failed,
            _amount(total.failed_minor, total.currency),
            _amount(total.net_minor, total.currency),
        ]
        writer.writerow(["", *row] if with_tenant else row)
    if report.lines:
        platform = [f"net in {report.platform} at recorded rates", "", report.platform]
        platform += ["", "", "", "", "", "", _amount(report.platform_net_minor, report.platform)]
        writer.writerow(["", *platform] if with_tenant else platform)
    name = f"payments-{report.scope}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.csv"
    return name, out.getvalue()


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months, this month included, up to today."""
    first = today.replace(day=1)
    for _ in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, today


def parse_period(start: str, end: str, *, today: date) -> tuple[date, date]:
    """The period a page or link asks for ("YYYY-MM-DD" each; blank: the default)."""
    default_start, default_end = default_period(today)
    try:
        return (
            date.fromisoformat(start) if start else default_start,
            date.fromisoformat(end) if end else default_end,
        )
    except ValueError:
        raise DomainError("Dates are YYYY-MM-DD.") from None
