"""BTCPay against its simulator: an invoice paid in crypto (full, partial then expired, over),
exactly once whatever the webhooks do; forged and stale deliveries; a lost create; refunds."""

import json
import time

import pytest
from sqlmodel import select

from ezscale.models.billing import Payment
from ezscale.models.payments import CheckoutStatus, GatewayCheckout, GatewayEvent
from ezscale.models.tenant import Invoice, InvoiceStatus
from ezscale.services.billing import credits, payments
from ezscale.services.payments import checkout, webhooks
from ezscale.services.payments.gateway import BadSignature
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_customer, tenant_db
from tests.services.payments.conftest import enable_btcpay, open_invoice


def _deliver(tenant, sim, deliveries=None) -> list[str]:
    queued = sim.outbox if deliveries is None else deliveries
    if deliveries is None:
        sim.outbox = []
    return [webhooks.handle(tenant.id, "btcpay", d.body, d.headers).status for d in queued]


def _start(session, tenant, user_id, amount=2500):
    invoice = open_invoice(session, user_id, amount=amount)
    started = checkout.start(
        session, tenant=tenant, user_id=user_id, invoice_id=invoice.id, gateway="btcpay", save_method=True
    )
    assert started.redirect_url.endswith(f"/i/{started.reference}")
    again = checkout.start(
        session, tenant=tenant, user_id=user_id, invoice_id=invoice.id, gateway="btcpay", save_method=True
    )
    assert again == started  # pressed twice (the page asks to keep PayPal; crypto keeps nothing)
    return invoice, started.reference


def test_paid_in_full_settles_the_invoice_once(make_tenant, clock, btcpay):
    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice, ref = _start(session, tenant, user.id)
        btcpay.outbox = []
        btcpay.pay(ref, "full")
        deliveries = list(btcpay.outbox)
        assert _deliver(tenant, btcpay) == ["processed", "processed"]  # received payment, settled
        assert _deliver(tenant, btcpay, deliveries) == ["duplicate", "duplicate"]
        session.expire_all()
        assert session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
        [payment] = session.exec(select(Payment)).all()
        assert (payment.gateway, payment.gateway_ref, payment.amount_minor) == ("btcpay", ref, 2500)


def test_partial_payment_leaves_the_rest_due(make_tenant, clock, btcpay):
    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice, ref = _start(session, tenant, user.id)
        btcpay.pay(ref, "partial")
        _deliver(tenant, btcpay)
        session.expire_all()
        assert session.exec(select(Payment)).all() == []  # seen, not final
        btcpay.pay(ref, "expire")
        _deliver(tenant, btcpay)
        session.expire_all()
        invoice = session.get(Invoice, invoice.id)
        [payment] = session.exec(select(Payment)).all()
        assert payment.amount_minor == 1250 and invoice.amount_paid_minor == 1250
        assert invoice.status is InvoiceStatus.OPEN
        assert session.exec(select(GatewayCheckout)).one().status is CheckoutStatus.EXPIRED
        # The rest can be paid by a new checkout of what is left.
        again = checkout.start(
            session, tenant=tenant, user_id=user.id, invoice_id=invoice.id, gateway="btcpay"
        )
        assert btcpay.invoices[again.reference]["amount"] == "12.50"


def test_over_payment_becomes_credit_exactly_once(make_tenant, clock, btcpay):
    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice, ref = _start(session, tenant, user.id)
        btcpay.pay(ref, "over")
        deliveries = list(btcpay.outbox)
        _deliver(tenant, btcpay)
        _deliver(tenant, btcpay, deliveries)
        row = session.exec(select(GatewayCheckout)).one()
        checkout.refresh(session, tenant=tenant, checkout=row)  # the return page, after the webhooks
        session.expire_all()
        assert session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 250
        assert len(session.exec(select(Payment)).all()) == 1


def test_forged_and_stale_deliveries_write_nothing(make_tenant, clock, btcpay):
    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay, secret="right")
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice, ref = _start(session, tenant, user.id)
    btcpay.outbox = []
    btcpay.pay(ref, "full")
    settled = btcpay.outbox[-1]
    event = json.loads(settled.body)
    forged = btcpay.signed(event, secret="wrong")
    stale = btcpay.signed(
        {**event, "deliveryId": "old", "timestamp": int(time.time()) - 3 * 3600}, secret="right"
    )
    for delivery in (forged, stale):
        with pytest.raises(BadSignature):
            webhooks.handle(tenant.id, "btcpay", delivery.body, delivery.headers)
    with pytest.raises(BadSignature):
        webhooks.handle(tenant.id, "btcpay", settled.body, {"Content-Type": "application/json"})
    with tenant_db(tenant) as session:
        assert session.exec(select(GatewayEvent)).all() == [] and session.exec(select(Payment)).all() == []
        assert session.get(Invoice, invoice.id).status is InvoiceStatus.OPEN


def test_a_lost_create_reply_is_one_invoice(make_tenant, clock, btcpay):
    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay)
    btcpay.inject("create_invoice", "timeout")
    with tenant_db(tenant) as session:
        user = add_customer(session)
        _, ref = _start(session, tenant, user.id)
    assert list(btcpay.invoices) == [ref]


def test_refund_is_a_pull_payment(make_tenant, clock, btcpay):
    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        _, ref = _start(session, tenant, user.id)
        btcpay.pay(ref, "full")
        _deliver(tenant, btcpay)
        payment = session.exec(select(Payment)).one()
        payments.refund(session, payment=payment, amount_minor=500, reason="goodwill", tenant=tenant)
        assert payment.refunded_minor == 500
    [pull] = btcpay.pull_payments.values()
    assert (pull["amount"], pull["currency"]) == ("5.00", "USD")


def test_an_event_that_cannot_be_checked_now_is_kept_for_redelivery(make_tenant, clock, btcpay):
    from ezscale.services.payments.gateway import GatewayUnavailable

    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice, ref = _start(session, tenant, user.id)
    btcpay.outbox = []
    btcpay.pay(ref, "full")
    settled = btcpay.outbox[-1]
    btcpay.inject("get_invoice", "500", "500", "500", "500")  # BTCPay down while we re-read it
    with pytest.raises(GatewayUnavailable):
        webhooks.handle(tenant.id, "btcpay", settled.body, settled.headers)
    with tenant_db(tenant) as session:
        assert session.exec(select(GatewayEvent)).all() == []
    assert webhooks.handle(tenant.id, "btcpay", settled.body, settled.headers).status == "processed"
    with tenant_db(tenant) as session:
        assert session.get(Invoice, invoice.id).status is InvoiceStatus.PAID


def test_renewal_by_crypto_mails_one_pay_link_and_the_webhook_pays_it(make_tenant, clock, btcpay):
    """Crypto cannot be charged off-session: the run's attempt is a BTCPay invoice and a mail with
    its link, once (a second run, or a retried attempt, makes no second BTCPay invoice)."""
    from ezscale.models.auth import TenantMail
    from ezscale.services.billing import runs

    tenant = TenantInfo.of(make_tenant("btc"))
    enable_btcpay(tenant, btcpay)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        payments.renew_by_crypto(session, user_id=user.id)
        invoice = open_invoice(session, user.id, amount=4200, currency="EUR")
        assert runs.collect(session, tenant=tenant) == (0, 1)
        assert runs.collect(session, tenant=tenant) == (0, 0)  # attempted already: nothing new
        payments.charge_invoice(session, tenant=tenant, invoice=invoice)  # a later attempt
        [ref] = list(btcpay.invoices)
        assert btcpay.invoices[ref]["amount"] == "42.00" and btcpay.invoices[ref]["currency"] == "EUR"
        mails = session.exec(select(TenantMail).where(TenantMail.kind == "crypto_pay_link")).all()
        assert len(mails) == 2 and all(f"/i/{ref}" in m.text for m in mails)
        assert session.exec(select(Payment)).all() == []
        btcpay.outbox = []
        btcpay.pay(ref, "full")
        _deliver(tenant, btcpay)
        session.expire_all()
        assert session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
        assert [p.amount_minor for p in session.exec(select(Payment)).all()] == [4200]
