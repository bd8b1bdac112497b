"""Platform revenue across currencies: every paid invoice converted to the platform currency at
the rate recorded on that invoice (never today's rate), per invoice currency."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from ezscale.models.tenant import Invoice, InvoiceKind, InvoiceStatus
from ezscale.money import Money
from ezscale.services.analytics.snapshots import reporting_tenants
from ezscale.services.fx.conversion import convert_back_minor
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.settings import get_settings


@dataclass(frozen=True, slots=True)
class CurrencyRevenue:
    """Paid revenue (before tax) in one invoice currency, and in the platform currency."""

    currency: str
    invoices: int
    revenue: str
    converted: str
    unconverted: int


@dataclass(frozen=True, slots=True)
class ConvertedRevenue:
    """The platform's paid revenue of a period by invoice currency, with its converted total."""

    platform: str
    rows: list[CurrencyRevenue]
    total: str
    note: str


def _platform_minor(invoice: Invoice, platform: str) -> int | None:
    if invoice.currency == platform:
        return invoice.subtotal_minor
    if invoice.fx_platform_currency != platform or not invoice.fx_platform_rate:
        return None
    rate = Decimal(invoice.fx_platform_rate)
    return convert_back_minor(invoice.subtotal_minor, currency=invoice.currency, target=platform, rate=rate)


def converted_revenue(central: Session, *, since: datetime, until: datetime) -> ConvertedRevenue:
    """Paid invoices with `since <= paid_at < until` over every tenant, per currency, each
    converted at its own recorded rate; invoices without a recorded rate to the platform
    currency are counted as unconverted and left out of the total."""
    platform = get_settings().default_currency.upper()
    original: dict[str, int] = defaultdict(int)
    converted: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    missing: dict[str, int] = defaultdict(int)
    for tenant in reporting_tenants(central):
        with tenant_session(tenant) as db:
            for invoice in db.exec(
                select(Invoice).where(
                    col(Invoice.kind) == InvoiceKind.INVOICE,
                    col(Invoice.status) == InvoiceStatus.PAID,
                    col(Invoice.paid_at) >= since,
                    col(Invoice.paid_at) < until,
                )
            ):
                code = invoice.currency
                counts[code] += 1
                original[code] += invoice.subtotal_minor
                value = _platform_minor(invoice, platform)
                if value is None:
                    missing[code] += 1
                else:
                    converted[code] += value
    rows = [
        CurrencyRevenue(
            currency=code,
            invoices=counts[code],
            revenue=Money(original[code], code).format(),
            converted=Money(converted[code], platform).format(),
            unconverted=missing[code],
        )
        for code in sorted(counts, key=lambda c: (c != platform, c))
    ]
    note = (
        f"Converted to {platform} at the exchange rate recorded on each invoice when it was made "
        "(ECB reference rate of that day), not at today's rate."
    )
    if any(missing.values()):
        note += " Invoices without a recorded rate are counted but left out of the total."
    return ConvertedRevenue(
        platform=platform, rows=rows, total=Money(sum(converted.values()), platform).format(), note=note
    )
