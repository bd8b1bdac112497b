"""Customers in other currencies: sign-up choice, prices converted (or fixed), invoices in the
customer's currency recording their rates, JPY exact end to end, a rate change between quote
and payment, and admin analytics converted at each invoice's recorded rate."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import func, select

from ezscale.errors import DomainError
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import CreditKind, Invoice, InvoiceItem, InvoiceStatus, Service, User
from ezscale.money import Money
from ezscale.services.accounts import auth
from ezscale.services.analytics.converted import converted_revenue
from ezscale.services.billing import credits, orders, payments, views
from ezscale.services.fx import currencies, pricing, rates, refresh
from ezscale.services.fx.rates import RatesUnavailable
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings
from tests.actors import admin
from tests.factories import add_card, add_customer, charges_of, plan, tenant_db
from tests.services.fx.support import FEED_DAY

USD_TO_EUR, USD_TO_JPY = "0.8583690987", "146.9785407725"  # from the simulator's default day


@pytest.fixture
def shop(make_tenant) -> TenantInfo:
    """A USD shop (vps-1 at $6.00/month) also selling in EUR, GBP and JPY, rounding to the cent."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as db:
        currencies.update_currencies(
            db, actor=admin(), tenant=tenant, enabled="usd, EUR GBP JPY", rounding="minor"
        )
    return tenant


def _customer(db, email: str, currency: str) -> User:
    user = add_customer(db, email)
    currencies.choose_currency(db, user_id=user.id, currency=currency)
    db.commit()
    return user


def test_settings_keep_the_base_first_and_refuse_bad_input(shop):
    with tenant_db(shop) as db:
        assert currencies.tenant_currencies(db) == currencies.Currencies(
            base="USD", enabled=("USD", "EUR", "GBP", "JPY"), rounding=currencies.RoundingRule.MINOR
        )
        for enabled, rounding, message in [
            ("EUR DOLLARS", "minor", "not a currency code"),
            ("EUR", "sideways", "Choose a rounding rule"),
        ]:
            with pytest.raises(DomainError, match=message):
                currencies.update_currencies(
                    db, actor=admin(), tenant=shop, enabled=enabled, rounding=rounding
                )
        _customer(db, "eur@example.test", "EUR")
        with pytest.raises(DomainError, match="Customers use EUR"):
            currencies.update_currencies(db, actor=admin(), tenant=shop, enabled="USD GBP", rounding="minor")
        assert currencies.tenant_currencies(db).enabled == ("USD", "EUR", "GBP", "JPY")


def test_sign_up_chooses_an_enabled_currency(shop, clock):
    client = auth.Client(ip="203.0.113.9", user_agent="pytest")
    with tenant_db(shop) as db:
        with pytest.raises(DomainError, match="Choose one of: USD, EUR, GBP, JPY"):
            auth.sign_up(
                db,
                tenant=shop,
                email="a@example.test",
                password="correct horse battery",
                name="A",
                client=client,
                currency="CHF",
            )
        assert db.exec(select(func.count()).select_from(User)).one() == 0
        auth.sign_up(
            db,
            tenant=shop,
            email="b@example.test",
            password="correct horse battery",
            name="B",
            client=client,
            currency="jpy",
        )
        assert db.exec(select(User.currency).where(User.email == "b@example.test")).one() == "JPY"


def test_jpy_end_to_end_in_whole_yen(shop, rates_stored, stripe_env):
    with tenant_db(shop) as db:
        user = _customer(db, "yen@example.test", "JPY")
        add_card(db, shop, user.id)
        quote = orders.quote(db, user_id=user.id, plan_code="vps-1")
        # $6.00 × 146.9785407725 = ¥881.87… → ¥882 (a new customer's first month is whole).
        assert (quote.currency, quote.period_minor, quote.total_minor) == ("JPY", 882, 882)
        shown = views.order_quote_row(quote)
        assert (shown.recurring, shown.total) == ("882 JPY/mo", "882 JPY")

        order = orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-1")
        invoice = db.get(Invoice, order.invoice.id)
        assert invoice.status is InvoiceStatus.PAID and invoice.currency == "JPY"
        assert (invoice.subtotal_minor, invoice.total_minor, invoice.amount_paid_minor) == (882, 882, 882)
        assert (invoice.fx_rate, invoice.fx_platform_currency, invoice.fx_platform_rate) == (
            USD_TO_JPY,
            "USD",
            USD_TO_JPY,
        )
        assert invoice.fx_rate_date == FEED_DAY
        [line] = db.exec(select(InvoiceItem).where(InvoiceItem.invoice_id == invoice.id)).all()
        assert (line.unit_minor, line.amount_minor) == (882, 882)
        [payment] = db.exec(select(Payment).where(Payment.invoice_id == invoice.id)).all()
        assert (payment.status, payment.amount_minor, payment.currency) == (
            PaymentStatus.SUCCEEDED,
            882,
            "JPY",
        )
        [charge] = charges_of(_stripe_customer(db, user.id), shop)
        assert (charge.amount, charge.currency) == (882, "jpy")  # Stripe: JPY is zero-decimal
        assert Money(invoice.total_minor, "JPY").format() == "882 JPY"
        assert db.get(Service, order.service.id).status.value == "active"


def _stripe_customer(db, user_id: int) -> str:
    from ezscale.models.billing import BillingProfile

    return db.exec(select(BillingProfile.stripe_customer_id).where(BillingProfile.user_id == user_id)).one()


def test_a_rate_change_between_quote_and_payment_keeps_the_invoice(
    shop, central, rates_stored, stripe_env, clock
):
    with tenant_db(shop) as db:
        user = _customer(db, "eur@example.test", "EUR")
        quote = orders.quote(db, user_id=user.id, plan_code="vps-1")
        assert (quote.currency, quote.total_minor) == ("EUR", 515)  # $6.00 → €5.1502… → €5.15
        order = orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-1")  # no card: open
        assert (order.invoice.status, order.invoice.total_minor, order.invoice.fx_rate) == (
            InvoiceStatus.OPEN,
            515,
            USD_TO_EUR,
        )

        # Next working day the dollar is at par with the euro: new quotes change, the invoice not.
        clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
        rates_stored.set_day(date(2026, 11, 30), {"USD": "1.0000"})
        assert refresh.refresh_rates(central, url=get_settings().ecb_rates_url).added > 0
        new_price = pricing.plan_pricing(db, plan(db, "vps-1"), currency="EUR")
        assert (new_price.price_minor, new_price.rates.rate, new_price.rates.rate_date) == (
            600,
            Decimal(1),
            date(2026, 11, 30),
        )

        add_card(db, shop, user.id)
        payment = payments.charge_invoice(db, tenant=shop, invoice=order.invoice)
        invoice = db.get(Invoice, order.invoice.id)
        db.refresh(invoice)
        assert (payment.amount_minor, payment.currency, payment.status) == (
            515,
            "EUR",
            PaymentStatus.SUCCEEDED,
        )
        assert (invoice.status, invoice.total_minor, invoice.fx_rate, invoice.fx_rate_date) == (
            InvoiceStatus.PAID,
            515,
            USD_TO_EUR,
            FEED_DAY,
        )
        [charge] = charges_of(_stripe_customer(db, user.id), shop)
        assert (charge.amount, charge.currency) == (515, "eur")


def test_a_fixed_price_wins_over_conversion_and_rounding_rules_apply(shop, rates_stored):
    with tenant_db(shop) as db:
        vps = plan(db, "vps-1")
        pricing.set_fixed_price(db, vps, currency="GBP", price_minor=499)
        db.commit()
        gbp = _customer(db, "gbp@example.test", "GBP")
        assert orders.quote(db, user_id=gbp.id, plan_code="vps-1").period_minor == 499
        with pytest.raises(DomainError, match="base currency's price"):
            pricing.set_fixed_price(db, vps, currency="USD", price_minor=100)
        with pytest.raises(DomainError, match="not one of this shop's currencies"):
            pricing.set_fixed_price(db, vps, currency="CHF", price_minor=100)

        currencies.update_currencies(
            db, actor=admin(), tenant=shop, enabled="USD EUR GBP JPY", rounding="ninety_nine"
        )
        eur = _customer(db, "eur@example.test", "EUR")
        assert orders.quote(db, user_id=eur.id, plan_code="vps-1").period_minor == 599  # €5.15… → €5.99
        pricing.set_fixed_price(db, vps, currency="GBP", price_minor=None)  # back to converted
        db.commit()
        # $6.00 × 0.7403433476 = £4.44… → £4.99
        assert orders.quote(db, user_id=gbp.id, plan_code="vps-1").period_minor == 499
        assert pricing.plan_pricing(db, vps, currency="GBP").converted


def test_the_currency_is_fixed_once_the_customer_has_invoices(shop, rates_stored):
    with tenant_db(shop) as db:
        user = _customer(db, "ann@example.test", "EUR")
        currencies.choose_currency(db, user_id=user.id, currency="GBP")  # no invoices yet: allowed
        db.commit()
        orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-1")
        with pytest.raises(DomainError, match="fixed once you have invoices"):
            currencies.choose_currency(db, user_id=user.id, currency="EUR")
        assert currencies.choose_currency(db, user_id=user.id, currency="gbp") == "GBP"
        with pytest.raises(DomainError, match="Choose one of"):
            currencies.choose_currency(db, user_id=user.id, currency="XYZ")


def test_without_rates_an_order_in_another_currency_is_refused_and_writes_nothing(shop, clock):
    with tenant_db(shop) as db:
        user = _customer(db, "eur@example.test", "EUR")
        with pytest.raises(RatesUnavailable, match="No exchange rate from USD to EUR"):
            orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-1")
        db.rollback()
        assert db.exec(select(func.count()).select_from(Invoice)).one() == 0
        assert db.exec(select(func.count()).select_from(Service)).one() == 0
        # The base currency needs no rate at all.
        usd = add_customer(db, "usd@example.test")
        assert orders.quote(db, user_id=usd.id, plan_code="vps-1").currency == "USD"
        assert pricing.plan_pricing(db, plan(db, "vps-1"), currency="USD").price_minor == 600


def test_admin_analytics_convert_at_each_invoices_recorded_rate(shop, central, rates_stored, clock):
    with tenant_db(shop) as db:
        for email, currency, credit in (
            ("y@x.test", "JPY", 882),
            ("e@x.test", "EUR", 515),
            ("u@x.test", "USD", 600),
        ):
            user = _customer(db, email, currency)
            credits.add_entry(
                db,
                user_id=user.id,
                kind=CreditKind.TOP_UP,
                amount_minor=credit,
                currency=currency,
                memo="gift",
            )
            db.commit()
            assert orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-1").paid

    def report():
        now = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
        return converted_revenue(central, since=now - timedelta(days=30), until=now)

    first = report()
    assert [(r.currency, r.invoices, r.revenue, r.converted) for r in first.rows] == [
        ("USD", 1, "$6.00", "$6.00"),
        ("EUR", 1, "€5.15", "$6.00"),  # 5.15 / 0.8583690987 = 5.99975 → $6.00
        ("JPY", 1, "882 JPY", "$6.00"),  # 882 / 146.9785407725 = 6.00087 → $6.00
    ]
    assert first.total == "$18.00" and "rate recorded on each invoice" in first.note

    # Rates move; the report does not: it uses the invoices' own rates.
    clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    rates_stored.set_day(date(2026, 11, 30), {"USD": "2.0000", "JPY": "100.00"})
    refresh.refresh_rates(central, url=get_settings().ecb_rates_url)
    assert rates.table_on(central).cross("USD", "JPY") == Decimal("50")
    assert report() == first
