"""PayPal against its simulator: checkout (approve → capture), the wallet saved for renewals and
charged off-session, a lost response retried with the same PayPal-Request-Id, declines and their
mail, refunds, and verified webhooks (forged, stale, replayed, out of order)."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from ezscale.models.auth import TenantMail
from ezscale.models.billing import Payment, PaymentMethod, PaymentStatus
from ezscale.models.payments import CheckoutStatus, GatewayEvent
from ezscale.models.tenant import InvoiceStatus
from ezscale.services.billing import payments, views
from ezscale.services.payments import checkout, webhooks
from ezscale.services.payments.gateway import BadSignature
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_customer, tenant_db
from tests.services.payments.conftest import enable_paypal, open_invoice


def _approve(redirect_url: str) -> str:
    """The payer approves on the simulator's page; returns where PayPal sends them back."""
    page = httpx.get(redirect_url)
    assert page.status_code == 200 and "Approve" in page.text
    token = redirect_url.split("token=")[1]
    base = redirect_url.split("/checkoutnow")[0]
    reply = httpx.post(f"{base}/checkoutnow/approve", data={"token": token})
    assert reply.status_code == 303
    return reply.headers["location"]


def _deliver(tenant: TenantInfo, sim, deliveries=None) -> list[str]:
    """Hand the simulator's queued deliveries to the webhook service; returns their outcomes."""
    queued = sim.outbox if deliveries is None else deliveries
    if deliveries is None:
        sim.outbox = []
    return [webhooks.handle(tenant.id, "paypal", d.body, d.headers).status for d in queued]


def _paid_by_paypal(session, tenant, paypal, user_id, *, save=True):
    invoice = open_invoice(session, user_id)
    started = checkout.start(
        session, tenant=tenant, user_id=user_id, invoice_id=invoice.id, gateway="paypal", save_method=save
    )
    back = _approve(started.redirect_url)
    assert back.startswith("http://") and "/payments/paypal/return?checkout=" in back
    row = checkout.find(session, gateway="paypal", reference=started.reference)
    checkout.refresh(session, tenant=tenant, checkout=row)
    session.refresh(invoice)
    return invoice, row


def test_checkout_captures_once_and_saves_the_wallet(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice, row = _paid_by_paypal(session, tenant, paypal, user.id)
        assert invoice.status is InvoiceStatus.PAID and row.status is CheckoutStatus.COMPLETED
        [payment] = session.exec(select(Payment)).all()
        assert (payment.gateway, payment.amount_minor, payment.status) == (
            "paypal",
            2500,
            PaymentStatus.SUCCEEDED,
        )
        assert payment.gateway_ref in paypal.captures
        [method] = session.exec(select(PaymentMethod)).all()
        assert (
            method.gateway == "paypal"
            and method.is_default
            and method.stripe_payment_method_id in paypal.vault
        )
        assert views.default_method_label(session, user_id=user.id) == "PayPal"
        # The return page again, and every webhook (approved, captured, vaulted) change nothing more.
        checkout.refresh(session, tenant=tenant, checkout=row)
        assert set(_deliver(tenant, paypal)) <= {"processed", "ignored"}
        session.expire_all()
        assert len(session.exec(select(Payment)).all()) == 1
        assert len([c for c in paypal.captures.values() if c["status"] == "COMPLETED"]) == 1
        assert session.get(type(invoice), invoice.id).amount_paid_minor == 2500


def test_pressing_pay_twice_is_one_order(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice = open_invoice(session, user.id)
        first = checkout.start(
            session, tenant=tenant, user_id=user.id, invoice_id=invoice.id, gateway="paypal"
        )
        again = checkout.start(
            session, tenant=tenant, user_id=user.id, invoice_id=invoice.id, gateway="paypal"
        )
    assert first == again and len(paypal.orders) == 1


def test_renewal_charges_the_saved_wallet_once_despite_a_lost_response(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        _paid_by_paypal(session, tenant, paypal, user.id)
        renewal = open_invoice(session, user.id, amount=1800)
        paypal.inject("create_order", "timeout")  # carried out at PayPal, the reply is lost
        payment = payments.charge_invoice(session, tenant=tenant, invoice=renewal)
        assert payment.status is PaymentStatus.SUCCEEDED and payment.gateway == "paypal"
        assert renewal.status is InvoiceStatus.PAID
        charged = [c for c in paypal.captures.values() if c["invoice_id"] == payment.idempotency_key]
        assert len(charged) == 1 and charged[0]["amount"]["value"] == "18.00"
        assert payment.gateway_ref == charged[0]["id"]
        # Its webhook (and a replay of it) is the same payment.
        deliveries = list(paypal.outbox)
        _deliver(tenant, paypal)
        assert _deliver(tenant, paypal, deliveries) == ["duplicate"] * len(deliveries)
        session.expire_all()
        assert (
            session.exec(select(Payment).where(Payment.invoice_id == renewal.id)).one().amount_minor == 1800
        )


def test_declined_renewal_mails_a_pay_link_once(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session, "pat@example.test")
        _paid_by_paypal(session, tenant, paypal, user.id)
        renewal = open_invoice(session, user.id, amount=1800)
        paypal.inject("create_order", "declined")
        payment = payments.charge_invoice(session, tenant=tenant, invoice=renewal)
        assert payment.status is PaymentStatus.FAILED and renewal.status is InvoiceStatus.OPEN
        _deliver(tenant, paypal)  # PAYMENT.CAPTURE.DENIED: the same failed attempt
        _deliver(tenant, paypal, [])
        mails = session.exec(select(TenantMail).where(TenantMail.kind == "payment_failed")).all()
    assert len(mails) == 1 and mails[0].to_address == "pat@example.test"
    assert f"http://pp.localhost:3000/client/billing?invoice={renewal.id}" in mails[0].text
    assert renewal.number in mails[0].subject


def test_refunds_count_once_whoever_reports_them(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        _paid_by_paypal(session, tenant, paypal, user.id)
        payment = session.exec(select(Payment)).one()
        paypal.outbox = []
        payments.refund(session, payment=payment, amount_minor=1000, reason="goodwill", tenant=tenant)
        assert payment.refunded_minor == 1000
        assert paypal.captures[payment.gateway_ref]["status"] == "PARTIALLY_REFUNDED"
        assert _deliver(tenant, paypal) == ["processed"]  # PAYMENT.CAPTURE.REFUNDED of our refund
        session.refresh(payment)
        assert payment.refunded_minor == 1000
        with pytest.raises(Exception, match="left of the payment"):
            payments.refund(session, payment=payment, amount_minor=1501, reason="too much", tenant=tenant)
        payments.refund(session, payment=payment, amount_minor=1500, reason="rest", tenant=tenant)
        assert payment.refunded_minor == 2500 and paypal.captures[payment.gateway_ref]["status"] == "REFUNDED"


def test_refund_made_at_paypal_is_recorded_once(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        _paid_by_paypal(session, tenant, paypal, user.id)
        payment = session.exec(select(Payment)).one()
        paypal.outbox = []
        client = paypal_client_for(paypal)
        client.refund_capture(
            payment.gateway_ref, {"amount": {"currency_code": "USD", "value": "4.00"}}, request_id="x1"
        )
        deliveries = list(paypal.outbox)
        assert _deliver(tenant, paypal) == ["processed"]
        assert _deliver(tenant, paypal, deliveries) == ["duplicate"]
        session.refresh(payment)
        assert payment.refunded_minor == 400


def paypal_client_for(sim):
    from ezscale.services.payments.paypal_client import Credentials, PayPalClient
    from ezscale.simulators.paypal import DEMO_CLIENT_ID, DEMO_SECRET

    return PayPalClient(sim.base_url, Credentials(DEMO_CLIENT_ID, DEMO_SECRET))


def _event_rows(tenant) -> int:
    with tenant_db(tenant) as session:
        return len(session.exec(select(GatewayEvent)).all())


def test_forged_and_stale_webhooks_write_nothing(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("pp"))
    other = TenantInfo.of(make_tenant("other"))
    webhook_id = enable_paypal(tenant, paypal)
    enable_paypal(other, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice = open_invoice(session, user.id)
        started = checkout.start(
            session, tenant=tenant, user_id=user.id, invoice_id=invoice.id, gateway="paypal"
        )
    _approve(started.redirect_url)
    [approved] = [d for d in paypal.outbox if d.url.endswith(f"/{tenant.id}")]
    paypal.outbox = []
    tampered = approved.body.replace(b"CHECKOUT.ORDER.APPROVED", b"PAYMENT.CAPTURE.COMPLETED")
    with pytest.raises(BadSignature):
        webhooks.handle(tenant.id, "paypal", tampered, approved.headers)
    with pytest.raises(BadSignature):  # aimed at another tenant: its webhook id does not match
        webhooks.handle(other.id, "paypal", approved.body, approved.headers)
    stale_at = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    import json

    stale = paypal.signed(json.loads(approved.body), webhook_id=webhook_id, at=stale_at)
    with pytest.raises(BadSignature):
        webhooks.handle(tenant.id, "paypal", stale.body, stale.headers)
    unsigned = {k: v for k, v in approved.headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}
    with pytest.raises(BadSignature):
        webhooks.handle(tenant.id, "paypal", approved.body, unsigned)
    assert _event_rows(tenant) == 0 and _event_rows(other) == 0
    with tenant_db(tenant) as session:
        assert session.exec(select(Payment)).all() == []
    # The genuine delivery captures the approved order (the lost-redirect case), once.
    assert webhooks.handle(tenant.id, "paypal", approved.body, approved.headers).status == "processed"
    assert webhooks.handle(tenant.id, "paypal", approved.body, approved.headers).status == "duplicate"
    with tenant_db(tenant) as session:
        assert session.get(type(invoice), invoice.id).status is InvoiceStatus.PAID
        assert len(session.exec(select(Payment)).all()) == 1


def test_refund_before_its_payment_is_refused_until_it_is_known(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("pp"))
    webhook_id = enable_paypal(tenant, paypal)
    import json

    event = {
        "id": "WH-EARLY",
        "event_type": "PAYMENT.CAPTURE.REFUNDED",
        "create_time": "2026-01-01T00:00:00Z",
        "resource": {
            "id": "RF1",
            "amount": {"currency_code": "USD", "value": "1.00"},
            "links": [{"rel": "up", "href": "http://x/v2/payments/captures/CAPUNKNOWN"}],
        },
    }
    early = paypal.signed(event, webhook_id=webhook_id)
    with pytest.raises(webhooks.NotYet):
        webhooks.handle(tenant.id, "paypal", early.body, early.headers)
    assert _event_rows(tenant) == 0
    assert json.loads(early.body)["id"] == "WH-EARLY"


def test_token_is_cached_and_bad_credentials_are_a_clear_error(make_tenant, clock, paypal):
    client = paypal_client_for(paypal)
    client.token(renew=True)
    before = paypal.calls.count("token")
    client.token()
    assert paypal.calls.count("token") == before
    from ezscale.services.payments.paypal_client import Credentials, PayPalClient, PayPalError

    bad = PayPalClient(paypal.base_url, Credentials("someone", "wrong"))
    with pytest.raises(PayPalError, match="credentials"):
        bad.token(renew=True)


def test_a_saved_wallet_is_not_charged_while_paypal_is_off(make_tenant, clock, paypal):
    from ezscale.db import central_session
    from ezscale.services.payments import accounts
    from tests.services.payments.conftest import ACTOR

    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        _paid_by_paypal(session, tenant, paypal, user.id)
        with central_session() as central:
            accounts.configure(central, tenant_id=tenant.id, gateway="paypal", enabled=False, actor=ACTOR)
        renewal = open_invoice(session, user.id, amount=1800)
        payment = payments.charge_invoice(session, tenant=tenant, invoice=renewal)
        assert payment.status is PaymentStatus.FAILED and "not available" in payment.failure_message
    assert len(paypal.captures) == 1
