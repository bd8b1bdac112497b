"""The gateway cases the issue's test list names beyond the basic flows: a PayPal capture whose
reply is lost, retried with the same PayPal-Request-Id (one capture); a JPY (zero-decimal)
invoice paid and refunded through PayPal in whole yen; BTCPay webhooks out of order (settled
before processing, expired after settled: one correct effect); and a rate change between the
quote and a PayPal payment (the invoice keeps its recorded rate)."""

import json
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlmodel import select

from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.payments import CheckoutStatus, GatewayCheckout
from ezscale.models.tenant import Invoice, InvoiceStatus
from ezscale.services.billing import orders, payments
from ezscale.services.fx import currencies, refresh
from ezscale.services.payments import checkout, webhooks
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings
from tests.actors import admin
from tests.factories import add_customer, tenant_db
from tests.services.fx.support import FEED_DAY
from tests.services.payments.conftest import enable_btcpay, enable_paypal, open_invoice

USD_TO_EUR, USD_TO_JPY = "0.8583690987", "146.9785407725"


def _approve(redirect_url: str) -> None:
    token = redirect_url.split("token=")[1]
    base = redirect_url.split("/checkoutnow")[0]
    assert httpx.post(f"{base}/checkoutnow/approve", data={"token": token}).status_code == 303


def _pay_by_paypal(db, tenant, user_id: int, invoice_id: int) -> GatewayCheckout:
    started = checkout.start(db, tenant=tenant, user_id=user_id, invoice_id=invoice_id, gateway="paypal")
    _approve(started.redirect_url)
    row = checkout.find(db, gateway="paypal", reference=started.reference)
    checkout.refresh(db, tenant=tenant, checkout=row)
    return row


def _shop(make_tenant, slug: str) -> TenantInfo:
    tenant = TenantInfo.of(make_tenant(slug))
    with tenant_db(tenant) as db:
        currencies.update_currencies(
            db, actor=admin(), tenant=tenant, enabled="USD EUR JPY", rounding="minor"
        )
    return tenant


def test_a_lost_capture_reply_retried_with_the_same_request_id_is_one_capture(
    make_tenant, clock, paypal, caplog
):
    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as db:
        user = add_customer(db)
        invoice = open_invoice(db, user.id)
        paypal.inject("capture", "timeout")  # PayPal captures; its reply never reaches us
        row = _pay_by_paypal(db, tenant, user.id, invoice.id)
        # We retried after the timeout; PayPal answered the retry from the first capture (the
        # same PayPal-Request-Id), so it carried out one capture call.
        assert "capture: ReadTimeout" in caplog.text
        assert paypal.calls.count("capture") == 1
        completed = [c for c in paypal.captures.values() if c["status"] == "COMPLETED"]
        assert len(completed) == 1
        db.expire_all()
        assert db.get(Invoice, invoice.id).status is InvoiceStatus.PAID
        [payment] = db.exec(select(Payment)).all()
        assert (payment.amount_minor, payment.gateway_ref) == (2500, completed[0]["id"])
        # The return page reloaded and every webhook: still one payment, one capture.
        checkout.refresh(db, tenant=tenant, checkout=row)
        for delivery in paypal.outbox:
            webhooks.handle(tenant.id, "paypal", delivery.body, delivery.headers)
        db.expire_all()
        assert len(db.exec(select(Payment)).all()) == 1 and len(paypal.captures) == 1


def test_jpy_through_paypal_in_whole_yen(make_tenant, rates_stored, paypal):
    tenant = _shop(make_tenant, "yen")
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as db:
        user = add_customer(db, "yen@example.test")
        currencies.choose_currency(db, user_id=user.id, currency="JPY")
        db.commit()
        order = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1")  # no card: open
        assert (order.invoice.currency, order.invoice.total_minor, order.invoice.fx_rate) == (
            "JPY",
            882,
            USD_TO_JPY,
        )
        _pay_by_paypal(db, tenant, user.id, order.invoice.id)
        [sent] = [o["purchase_units"][0]["amount"] for o in paypal.orders.values()]
        assert sent == {"currency_code": "JPY", "value": "882"}  # no decimals: PayPal refuses them
        db.expire_all()
        invoice = db.get(Invoice, order.invoice.id)
        assert (invoice.status, invoice.amount_paid_minor) == (InvoiceStatus.PAID, 882)
        payment = db.exec(select(Payment)).one()
        assert (payment.amount_minor, payment.currency, payment.status) == (
            882,
            "JPY",
            PaymentStatus.SUCCEEDED,
        )
        payments.refund(db, payment=payment, amount_minor=100, reason="goodwill", tenant=tenant)
        capture = paypal.captures[payment.gateway_ref]
        assert (capture["_refunded"], capture["status"]) == ("100", "PARTIALLY_REFUNDED")
        assert payment.refunded_minor == 100


def test_a_rate_change_between_quote_and_paypal_payment_keeps_the_invoice(
    make_tenant, central, rates_stored, clock, paypal
):
    tenant = _shop(make_tenant, "euro")
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as db:
        user = add_customer(db, "eur@example.test")
        currencies.choose_currency(db, user_id=user.id, currency="EUR")
        db.commit()
        quote = orders.quote(db, user_id=user.id, plan_code="vps-1")
        order = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1")
        assert (quote.total_minor, order.invoice.total_minor, order.invoice.fx_rate) == (515, 515, USD_TO_EUR)
        clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
        rates_stored.set_day(date(2026, 11, 30), {"USD": "1.0000"})
        assert refresh.refresh_rates(central, url=get_settings().ecb_rates_url).added > 0
        assert orders.quote(db, user_id=user.id, plan_code="vps-1").total_minor != 515  # new quotes move
        _pay_by_paypal(db, tenant, user.id, order.invoice.id)
        [sent] = [o["purchase_units"][0]["amount"] for o in paypal.orders.values()]
        assert sent == {"currency_code": "EUR", "value": "5.15"}
        db.expire_all()
        invoice = db.get(Invoice, order.invoice.id)
        assert (invoice.status, invoice.total_minor, invoice.fx_rate, invoice.fx_rate_date) == (
            InvoiceStatus.PAID,
            515,
            USD_TO_EUR,
            FEED_DAY,
        )
        assert db.exec(select(Payment)).one().amount_minor == 515


def _btcpay_invoice(db, tenant, user_id: int, btcpay):
    invoice = open_invoice(db, user_id)
    started = checkout.start(db, tenant=tenant, user_id=user_id, invoice_id=invoice.id, gateway="btcpay")
    btcpay.outbox = []
    return invoice, started.reference


def _handle(tenant, deliveries) -> list[str]:
    return [webhooks.handle(tenant.id, "btcpay", d.body, d.headers).status for d in deliveries]


def _state(db, invoice_id: int):
    db.expire_all()
    invoice = db.get(Invoice, invoice_id)
    return (
        invoice.status,
        invoice.amount_paid_minor,
        [(p.amount_minor, p.status) for p in db.exec(select(Payment)).all()],
        db.exec(select(GatewayCheckout)).one().status,
    )


def test_btcpay_webhooks_out_of_order_have_one_correct_effect(make_tenant, clock, btcpay):
    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay, secret="s")
    with tenant_db(tenant) as db:
        user = add_customer(db)
        invoice, ref = _btcpay_invoice(db, tenant, user.id, btcpay)
        btcpay.pay(ref, "full")
        received, settled = btcpay.outbox
        paid = (InvoiceStatus.PAID, 2500, [(2500, PaymentStatus.SUCCEEDED)], CheckoutStatus.COMPLETED)

        # Settled arrives first, then the earlier processing and received-payment events.
        assert _handle(tenant, [settled]) == ["processed"]
        assert _state(db, invoice.id) == paid
        processing = json.loads(settled.body) | {"type": "InvoiceProcessing", "deliveryId": "late-processing"}
        _handle(tenant, [btcpay.signed(processing, secret="s"), received])
        assert _state(db, invoice.id) == paid

        # An expiry delivered after the settlement changes nothing either.
        expired = json.loads(settled.body) | {
            "type": "InvoiceExpired",
            "deliveryId": "late-expiry",
            "partiallyPaid": False,
        }
        _handle(tenant, [btcpay.signed(expired, secret="s")])
        assert _state(db, invoice.id) == paid


def test_the_paypal_simulator_refuses_decimals_a_currency_does_not_have(paypal):
    from ezscale.services.payments.paypal_client import Credentials, PayPalClient, PayPalError
    from ezscale.simulators.paypal import DEMO_CLIENT_ID, DEMO_SECRET

    client = PayPalClient(paypal.base_url, Credentials(DEMO_CLIENT_ID, DEMO_SECRET))
    for amount in ({"currency_code": "JPY", "value": "882.00"}, {"currency_code": "USD", "value": "1.005"}):
        body = {"intent": "CAPTURE", "purchase_units": [{"amount": amount}]}
        with pytest.raises(PayPalError) as refused:
            client.create_order(body, request_id=f"r-{amount['value']}")
        assert refused.value.issue == "DECIMAL_PRECISION"
