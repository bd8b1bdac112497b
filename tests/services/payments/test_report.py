"""The payments report against hand-computed totals: per month × gateway × currency, a partial
and a full refund, a failure, two currencies never added together, the platform net converted at
each invoice's recorded rate (not today's), the empty state, and a reseller seeing only its own
database."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ezscale.errors import DomainError
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.services.accounts.sessions import AuthRole, AuthUser
from ezscale.services.billing import invoices
from ezscale.services.fx.pricing import InvoiceRates
from ezscale.services.payments import report
from ezscale.services.payments.report_view import ReportLineRow, ReportTotalRow, report_view, tenant_choices
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import admin, owner, staff
from tests.factories import add_customer, tenant_db

START, END = date(2026, 10, 1), date(2026, 11, 30)
EUR_PER_USD = Decimal("0.8583690987")


def _billing(tenant) -> AuthUser:
    return AuthUser(
        id=3, tenant_id=tenant.id, email="b@r.test", name="Billing", role=AuthRole.RESELLER_BILLING
    )


def _paid(
    db,
    user_id: int,
    *,
    at: datetime,
    gateway: str,
    amount: int,
    currency: str = "USD",
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
    refunded: int = 0,
    rate: Decimal | None = None,
) -> None:
    """An invoice (recording `rate` to USD when not in USD) and one payment of it at `at`."""
    rates = InvoiceRates(currency, "USD", rate, "USD", rate, date(2026, 10, 1) if rate else None)
    invoice = invoices.create_draft(db, user_id=user_id, currency=currency, rates=rates)
    db.add(
        Payment(
            user_id=user_id,
            invoice_id=invoice.id,
            status=status,
            amount_minor=amount,
            currency=currency,
            idempotency_key=f"k-{invoice.id}",
            refunded_minor=refunded,
            created_at=at,
            updated_at=at,
            gateway=gateway,
        )
    )
    db.commit()


def _day(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def shops(make_tenant, clock):
    """Two tenants: `shop` with payments in USD and EUR over two months, `other` with one."""
    shop, other = TenantInfo.of(make_tenant("shop")), TenantInfo.of(make_tenant("other"))
    with tenant_db(shop) as db:
        user = add_customer(db).id
        _paid(db, user, at=_day(11, 3), gateway="stripe", amount=2500, refunded=1000)
        _paid(db, user, at=_day(11, 4), gateway="stripe", amount=600)
        _paid(db, user, at=_day(11, 5), gateway="stripe", amount=600, status=PaymentStatus.FAILED)
        _paid(db, user, at=_day(11, 6), gateway="paypal", amount=515, currency="EUR", rate=EUR_PER_USD)
        _paid(db, user, at=_day(11, 7), gateway="btcpay", amount=1250)
        _paid(db, user, at=_day(11, 8), gateway="stripe", amount=999, status=PaymentStatus.PENDING)
        _paid(
            db,
            user,
            at=_day(10, 9),
            gateway="paypal",
            amount=1000,
            currency="EUR",
            refunded=1000,
            rate=EUR_PER_USD,
        )
        _paid(db, user, at=_day(10, 10), gateway="paypal", amount=300, currency="EUR")  # no rate recorded
        _paid(db, user, at=_day(9, 30), gateway="stripe", amount=7777)  # before the period
    with tenant_db(other) as db:
        _paid(db, add_customer(db).id, at=_day(11, 3), gateway="stripe", amount=4200)
    return shop, other


def _figures(line) -> tuple:
    return (
        f"{line.month:%Y-%m}",
        line.gateway,
        line.currency,
        line.succeeded,
        line.succeeded_minor,
        line.refunded,
        line.refunded_minor,
        line.failed,
        line.failed_minor,
        line.net_minor,
    )


def test_totals_per_month_gateway_and_currency(shops):
    shop, _ = shops
    with tenant_db(shop) as db:
        result = report.reseller_report(db, actor=owner(shop), tenant=shop, start=START, end=END)
    assert [_figures(line) for line in result.lines] == [
        ("2026-11", "btcpay", "USD", 1, 1250, 0, 0, 0, 0, 1250),
        ("2026-11", "paypal", "EUR", 1, 515, 0, 0, 0, 0, 515),
        ("2026-11", "stripe", "USD", 2, 3100, 1, 1000, 1, 600, 2100),
        ("2026-10", "paypal", "EUR", 2, 1300, 1, 1000, 0, 0, 300),
    ]
    assert [
        (t.currency, t.succeeded, t.succeeded_minor, t.refunded_minor, t.failed, t.failed_minor, t.net_minor)
        for t in result.totals
    ] == [("EUR", 3, 1815, 1000, 0, 0, 815), ("USD", 3, 4350, 1000, 1, 600, 3350)]
    # USD 33.50 + €5.15 / 0.8583690987 (= 5.99975 → $6.00) + the refunded €10.00 (0); the €3.00
    # without a recorded rate is left out, and said so.
    assert (result.platform, result.platform_net_minor, result.unconverted) == ("USD", 3950, 1)
    assert "rate recorded on its invoice" in result.platform_note and "1 payment(s)" in result.platform_note

    name, text = report.report_csv(result, with_tenant=False)
    assert name == "payments-shop-20261001-20261130.csv"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["month", "gateway", "currency", "succeeded"]
    assert rows[3] == ["2026-11", "stripe", "USD", "2", "31.00", "1", "10.00", "1", "6.00", "21.00"]
    assert ["total", "all", "EUR", "3", "18.15", "", "10.00", "0", "0.00", "8.15"] in rows
    assert rows[-1][0] == "net in USD at recorded rates" and rows[-1][-1] == "39.50"

    view = report_view(result)  # what the pages show: typed rows of text, same order as the report
    assert view.lines[2] == ReportLineRow(
        tenant="shop",
        month="2026-11",
        gateway="Card",
        currency="USD",
        succeeded="2 · $31.00",
        refunded="1 · $10.00",
        failed="1 · $6.00",
        net="$21.00",
    )
    assert view.totals[0] == ReportTotalRow("EUR", "3 · €18.15", "€10.00", "0 · €0.00", "€8.15")
    assert view.platform_total == "$39.50" and view.platform_note == result.platform_note


def test_the_platform_report_covers_all_tenants_or_one(shops, central):
    shop, other = shops
    everyone = report.platform_report(central, actor=admin(), tenant_id=None, start=START, end=END)
    assert {line.tenant for line in everyone.lines} == {"shop", "other"}
    usd = next(t for t in everyone.totals if t.currency == "USD")
    assert (usd.succeeded_minor, usd.net_minor) == (4350 + 4200, 3350 + 4200)
    assert everyone.platform_net_minor == 3950 + 4200
    assert [(c.id, c.label) for c in tenant_choices(central)][-2:] == [
        (shop.id, "Shop (shop)"),
        (other.id, "Other (other)"),
    ]
    one = report.platform_report(central, actor=admin(), tenant_id=other.id, start=START, end=END)
    assert [_figures(line) for line in one.lines] == [("2026-11", "stripe", "USD", 1, 4200, 0, 0, 0, 0, 4200)]
    _, text = report.report_csv(everyone, with_tenant=True)
    assert "shop,2026-11,stripe,USD,2,31.00" in text and "other,2026-11,stripe,USD,1,42.00" in text
    with pytest.raises(DomainError, match="platform admin"):
        report.platform_report(central, actor=owner(shop), tenant_id=None, start=START, end=END)
    with pytest.raises(DomainError, match="No such tenant"):
        report.platform_report(central, actor=admin(), tenant_id=99999, start=START, end=END)


def test_a_reseller_sees_only_its_own_database_and_only_owner_or_billing(shops):
    shop, other = shops
    with tenant_db(other) as db:
        mine = report.reseller_report(db, actor=_billing(other), tenant=other, start=START, end=END)
        assert {(line.tenant, line.succeeded_minor) for line in mine.lines} == {("other", 4200)}
        for actor in (staff(other), owner(shop), _billing(shop)):
            with pytest.raises(DomainError, match="owner and billing staff"):
                report.reseller_report(db, actor=actor, tenant=other, start=START, end=END)


def test_empty_period_and_bad_periods(shops):
    shop, _ = shops
    with tenant_db(shop) as db:
        empty = report.tenant_report(db, tenant=shop, start=date(2025, 1, 1), end=date(2025, 6, 30))
        assert empty.empty and empty.totals == [] and empty.platform_net_minor == 0
        _, text = report.report_csv(empty, with_tenant=False)
        assert text.count("\n") == 1  # the header alone
        with pytest.raises(DomainError, match="ends before it starts"):
            report.tenant_report(db, tenant=shop, start=END, end=START)
        with pytest.raises(DomainError, match="at most three years"):
            report.tenant_report(db, tenant=shop, start=date(2020, 1, 1), end=END)
