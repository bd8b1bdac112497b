"""The Stripe webhook endpoint: signatures, exactly-once, order independence, real delivery."""

import json
import subprocess
import sys
import time

import httpx
import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from ezscale.http.app import api
from ezscale.models.billing import BillingEvent, Payment, PaymentStatus, StripeEvent
from ezscale.models.tenant import InvoiceStatus
from ezscale.services.billing import invoices, payments
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings
from ezscale.simulators import stripe as stripe_simulator
from tests.factories import add_card, add_customer, stripe_headers, stripe_signed, tenant_db


def _event(event_id: str, kind: str, obj: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


@pytest.fixture(autouse=True)
def demo(monkeypatch):
    """These tests sign events with the published demo secret, which only the demo accepts."""
    monkeypatch.setenv("EZSCALE_DEMO", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def pending_payment(make_tenant, clock, stripe_env):
    """A customer with a Stripe customer and an invoice whose card payment is still pending."""
    tenant = TenantInfo.of(make_tenant("hooks", is_house=True))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        add_card(session, tenant, user.id)
        customer = payments.stripe_customer_id(session, tenant=tenant, user_id=user.id)
        invoice = invoices.create_draft(session, user_id=user.id, currency="USD")
        invoices.add_line(session, invoice, description="VPS", unit_minor=1500)
        invoices.issue(session, invoice)
        payment = Payment(
            user_id=user.id,
            invoice_id=invoice.id,
            amount_minor=1500,
            currency="USD",
            idempotency_key="key-1",
            stripe_payment_intent_id="pi_test1",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(payment)
        session.commit()
        return tenant, customer, invoice.id, payment.id


def _intent(customer: str, status_event: str) -> dict:
    obj = {"id": "pi_test1", "object": "payment_intent", "customer": customer, "amount": 1500, "metadata": {}}
    if status_event == "failed":
        obj["last_payment_error"] = {"message": "Your card was declined."}
    else:
        obj["latest_charge"] = "ch_test1"
    return obj


def _state(tenant, invoice_id, payment_id):
    with tenant_db(tenant) as session:
        events = session.exec(select(func.count()).select_from(StripeEvent)).one()
        return session.get(Payment, payment_id), session.get(invoices.Invoice, invoice_id), events


def test_bad_signature_is_rejected_and_changes_nothing(pending_payment):
    tenant, customer, invoice_id, payment_id = pending_payment
    payload, headers = stripe_signed(
        _event("evt_1", "payment_intent.succeeded", _intent(customer, "ok")), secret="whsec_wrong"
    )
    with TestClient(api) as client:
        assert client.post("/webhooks/stripe", content=payload, headers=headers).status_code == 400
        tampered = payload.replace(b"1500", b"9999")
        _, good_headers = stripe_signed(_event("evt_1", "payment_intent.succeeded", _intent(customer, "ok")))
        assert client.post("/webhooks/stripe", content=tampered, headers=good_headers).status_code == 400
        assert client.post("/webhooks/stripe", content=payload).status_code == 400
    payment, invoice, events = _state(tenant, invoice_id, payment_id)
    assert payment.status is PaymentStatus.PENDING and invoice.status is InvoiceStatus.OPEN and events == 0


@pytest.mark.parametrize("skew", [24 * 3600, 301, -24 * 3600, -301])
def test_signature_outside_the_tolerance_either_way_is_refused(pending_payment, skew):
    """A correctly signed event dated far in the future (or past) is a replay risk: 400, no writes."""
    tenant, customer, invoice_id, payment_id = pending_payment
    payload, headers = stripe_signed(
        _event("evt_t", "payment_intent.succeeded", _intent(customer, "ok")), skew=skew
    )
    with TestClient(api) as client:
        assert client.post("/webhooks/stripe", content=payload, headers=headers).status_code == 400
    payment, invoice, events = _state(tenant, invoice_id, payment_id)
    assert payment.status is PaymentStatus.PENDING and invoice.status is InvoiceStatus.OPEN and events == 0


def test_signature_inside_the_tolerance_is_accepted(pending_payment):
    tenant, customer, invoice_id, payment_id = pending_payment
    payload, headers = stripe_signed(
        _event("evt_s", "payment_intent.succeeded", _intent(customer, "ok")), skew=60
    )
    with TestClient(api) as client:
        assert (
            client.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "processed"
        )
    payment, invoice, events = _state(tenant, invoice_id, payment_id)
    assert payment.status is PaymentStatus.SUCCEEDED and invoice.status is InvoiceStatus.PAID and events == 1


def test_same_event_twice_is_processed_once(pending_payment):
    tenant, customer, invoice_id, payment_id = pending_payment
    payload, headers = stripe_signed(_event("evt_2", "payment_intent.succeeded", _intent(customer, "ok")))
    with TestClient(api) as client:
        first = client.post("/webhooks/stripe", content=payload, headers=headers).json()
        second = client.post("/webhooks/stripe", content=payload, headers=headers).json()
    assert (first["status"], second["status"]) == ("processed", "duplicate")
    payment, invoice, events = _state(tenant, invoice_id, payment_id)
    assert payment.status is PaymentStatus.SUCCEEDED and invoice.status is InvoiceStatus.PAID
    assert invoice.amount_paid_minor == 1500 and events == 1


def test_out_of_order_events(pending_payment):
    """Refund first, then success, then a stale failure: the end state is the true one."""
    tenant, customer, invoice_id, payment_id = pending_payment
    refund = {
        "id": "ch_test1",
        "object": "charge",
        "customer": customer,
        "payment_intent": "pi_test1",
        "amount_refunded": 500,
    }
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "charge": "ch_test1",
        "payment_intent": "pi_test1",
        "reason": "fraudulent",
        "customer": customer,
    }
    with TestClient(api) as client:
        for event in (
            _event("evt_r", "charge.refunded", refund),
            _event("evt_s", "payment_intent.succeeded", _intent(customer, "ok")),
            _event("evt_f", "payment_intent.payment_failed", _intent(customer, "failed")),
            _event("evt_d", "charge.dispute.created", dispute),
        ):
            payload, headers = stripe_signed(event)
            assert client.post("/webhooks/stripe", content=payload, headers=headers).status_code == 200
    payment, invoice, events = _state(tenant, invoice_id, payment_id)
    assert payment.status is PaymentStatus.SUCCEEDED and payment.refunded_minor == 500 and payment.disputed
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid_minor == 1500 and events == 4
    with tenant_db(tenant) as session:
        kinds = session.exec(select(BillingEvent.kind).where(BillingEvent.invoice_id == invoice_id)).all()
    assert "refund" in kinds and "dispute" in kinds and "payment_failed" not in kinds


def test_unknown_events_are_acknowledged(pending_payment):
    payload, headers = stripe_signed(
        _event("evt_x", "customer.created", {"id": "cus_x", "object": "customer"})
    )
    with TestClient(api) as client:
        assert client.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "ignored"


def test_malformed_or_unroutable_signed_payloads_get_400_and_change_nothing(pending_payment):
    tenant, customer, invoice_id, payment_id = pending_payment
    bad_refund = {
        "id": "ch_test1",
        "customer": customer,
        "payment_intent": "pi_test1",
        "amount_refunded": "x",
    }
    payloads = [
        b"not json",
        b"[1, 2]",
        json.dumps({"type": "payment_intent.succeeded", "data": {"object": {}}}).encode(),  # no id
        json.dumps({"id": "evt_m", "type": "payment_intent.succeeded", "data": {"object": "x"}}).encode(),
        json.dumps({"id": "evt_m", "type": "payment_intent.succeeded"}).encode(),
        json.dumps(
            _event("evt_t", "payment_intent.succeeded", {"id": "pi_x", "metadata": {"tenant_id": 999}})
        ).encode(),
        json.dumps(_event("evt_r", "charge.refunded", bad_refund)).encode(),
    ]
    with TestClient(api, raise_server_exceptions=False) as client:
        for payload in payloads:
            response = client.post("/webhooks/stripe", content=payload, headers=stripe_headers(payload))
            assert response.status_code == 400, (payload, response.text)
    payment, _, events = _state(tenant, invoice_id, payment_id)
    assert payment.status is PaymentStatus.PENDING and payment.refunded_minor == 0 and events == 0


@pytest.mark.parametrize(
    "env",
    [
        # What decides is EZSCALE_DEMO alone: not a localhost platform with localstripe keys
        # (the default settings of any install that forgot to configure them).
        {"EZSCALE_DEMO": None},
        {"EZSCALE_DEMO": "0", "EZSCALE_PLATFORM_DOMAIN": "ezscale.example"},
        {"EZSCALE_DEMO": None, "STRIPE_SECRET_KEY": "sk_live_real"},
    ],
)
def test_the_public_default_secret_is_refused_outside_the_demo(pending_payment, monkeypatch, caplog, env):
    tenant, customer, invoice_id, payment_id = pending_payment
    event = _event("evt_p", "payment_intent.succeeded", _intent(customer, "ok"))
    payload, headers = stripe_signed(event)  # signed with the published demo secret
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    with TestClient(api) as client:
        response = client.post("/webhooks/stripe", content=payload, headers=headers)
    assert response.status_code == 503
    assert "STRIPE_WEBHOOK_SECRET" in caplog.text
    assert _state(tenant, invoice_id, payment_id)[0].status is PaymentStatus.PENDING
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_configured")
    get_settings.cache_clear()
    payload, headers = stripe_signed(event)
    with TestClient(api) as client:
        assert (
            client.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "processed"
        )


@pytest.mark.slow  # starts the app under granian and waits for localstripe to deliver
def test_localstripe_delivers_signed_events_to_the_endpoint(make_tenant, clock, stripe_env):
    """localstripe posts payment_intent.succeeded to a live server; it is verified and stored once."""
    port = stripe_simulator.free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "ezscale.http.app:api",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/tenant-theme.css", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        stripe_simulator.register_webhook(
            stripe_env,
            url=f"http://127.0.0.1:{port}/webhooks/stripe",
            secret=get_settings().stripe_webhook_secret,
        )
        tenant = TenantInfo.of(make_tenant("live", is_house=True))
        with tenant_db(tenant) as session:
            user = add_customer(session)
            add_card(session, tenant, user.id)
            payment = payments.top_up(session, tenant=tenant, user_id=user.id, amount_minor=2000)
        deadline = time.monotonic() + 30  # localstripe waits a second before it sends
        seen: list[str] = []
        while time.monotonic() < deadline and "payment_intent.succeeded" not in seen:
            with tenant_db(tenant) as session:
                seen = list(session.exec(select(StripeEvent.type)))
            time.sleep(0.1)
        assert "payment_intent.succeeded" in seen
        with tenant_db(tenant) as session:
            assert session.get(Payment, payment.id).status is PaymentStatus.SUCCEEDED
    finally:
        httpx.post(
            f"{stripe_env}/_config/webhooks/ezscale", data={"url": "http://127.0.0.1:9/", "secret": "x"}
        )
        server.terminate()
        server.wait(timeout=10)


def test_setup_intent_succeeded_saves_the_card_once(make_tenant, clock, stripe_env):
    """The card is saved from the webhook when the page never reported back."""
    tenant = TenantInfo.of(make_tenant("hooks", is_house=True))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        secret = payments.start_card_setup(session, tenant=tenant, user_id=user.id)
    client = gateway().client
    intent_id = secret.split("_secret_")[0]
    card = {"number": "4242424242424242", "exp_month": 1, "exp_year": 2031, "cvc": "123"}
    intent = client.v1.setup_intents.confirm(
        intent_id, {"payment_method_data": {"type": "card", "card": card}}
    )
    payload, headers = stripe_signed(_event("evt_seti", "setup_intent.succeeded", intent.to_dict()))
    with TestClient(api) as http:
        assert http.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "processed"
        assert http.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "duplicate"
    with tenant_db(tenant) as session:
        cards = payments.list_cards(session, user_id=user.id)
        assert [(c.last4, c.is_default) for c in cards] == [("4242", True)]
