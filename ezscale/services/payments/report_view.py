"""What the payments report pages show, as typed rows of text: the lines per month × gateway ×
currency, the totals per currency, the platform net, and the tenants an admin can narrow it to."""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale.money import Money
from ezscale.services.analytics.snapshots import reporting_tenants
from ezscale.services.payments.report import PaymentReport, gateway_label


@dataclass(frozen=True, slots=True)
class ReportLineRow:
    """One month × gateway × currency (× tenant), each amount in its own currency."""

    tenant: str
    month: str  # "2026-11"
    gateway: str  # its label ("Card", "PayPal"…)
    currency: str
    succeeded: str  # "3 · $42.00": how many, and their amount
    refunded: str
    failed: str
    net: str


@dataclass(frozen=True, slots=True)
class ReportTotalRow:
    """The whole period in one currency."""

    currency: str
    succeeded: str
    refunded: str  # the amount only
    failed: str
    net: str


@dataclass(frozen=True, slots=True)
class ReportView:
    """What the report pages show: formatted lines and totals, the platform net and its note."""

    lines: list[ReportLineRow]
    totals: list[ReportTotalRow]
    platform_total: str
    platform_note: str


def report_view(report: PaymentReport) -> ReportView:
    """The report as rows of display strings, each amount in its own currency."""

    def fmt(minor: int, currency: str) -> str:
        return Money(minor, currency).format()

    lines = [
        ReportLineRow(
            tenant=line.tenant,
            month=f"{line.month:%Y-%m}",
            gateway=gateway_label(line.gateway),
            currency=line.currency,
            succeeded=f"{line.succeeded} · {fmt(line.succeeded_minor, line.currency)}",
            refunded=f"{line.refunded} · {fmt(line.refunded_minor, line.currency)}",
            failed=f"{line.failed} · {fmt(line.failed_minor, line.currency)}",
            net=fmt(line.net_minor, line.currency),
        )
        for line in report.lines
    ]
    totals = [
        ReportTotalRow(
            currency=total.currency,
            succeeded=f"{total.succeeded} · {fmt(total.succeeded_minor, total.currency)}",
            refunded=fmt(total.refunded_minor, total.currency),
            failed=f"{total.failed} · {fmt(total.failed_minor, total.currency)}",
            net=fmt(total.net_minor, total.currency),
        )
        for total in report.totals
    ]
    return ReportView(
        lines=lines,
        totals=totals,
        platform_total=fmt(report.platform_net_minor, report.platform),
        platform_note=report.platform_note,
    )


@dataclass(frozen=True, slots=True)
class TenantChoice:
    """A tenant an admin can narrow the report to."""

    id: int
    label: str  # "Name (slug)"


def tenant_choices(central: Session) -> list[TenantChoice]:
    """Every tenant the report covers, as `reporting_tenants` orders them."""
    return [TenantChoice(id=t.id, label=f"{t.name} ({t.slug})") for t in reporting_tenants(central)]
