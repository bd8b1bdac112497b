"""Stripe Connect: a reseller's customers pay into the reseller's own connected account (direct
charges, checked at the simulator), webhooks reach only the tenant of the account that sent them,
an unconnected reseller takes no payments, and a refund from the customer record is made once on
the reseller's account."""

import secrets
import threading
import time
from functools import partial
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from ezscale.errors import DomainError
from ezscale.http.app import api
from ezscale.models.billing import BillingProfile, Payment, PaymentMethod, PaymentStatus, StripeEvent
from ezscale.models.payments import ConnectedAccount, GatewayAccount
from ezscale.models.tenant import InvoiceStatus
from ezscale.services.billing import invoices, payments
from ezscale.services.core.audit import operator
from ezscale.services.customers import actions
from ezscale.services.payments import accounts, connect
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from tests.actors import owner, staff
from tests.factories import add_card, add_customer, stripe_signed, tenant_db


@pytest.fixture(autouse=True)
def demo(monkeypatch):
    """Events here are signed with the published demo secrets, which only the demo accepts."""
    monkeypatch.setenv("EZSCALE_DEMO", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def platform_api(stripe_env):
    with httpx.Client(base_url=stripe_env, auth=(get_settings().stripe_secret_key, ""), timeout=10) as c:
        yield c


def _open_invoice(session, user_id: int, amount: int = 2400):
    invoice = invoices.create_draft(session, user_id=user_id, currency="USD")
    invoices.add_line(session, invoice, description="VPS", unit_minor=amount)
    invoices.issue(session, invoice)
    return invoice


def _event(event_id: str, kind: str, obj: dict, account: str | None) -> dict:
    event = {"id": event_id, "object": "event", "type": kind, "created": int(time.time())}
    event["data"] = {"object": obj}
    if account:
        event["account"] = account
    return event


def _account_of(central, tenant: TenantInfo) -> str:
    return (
        central.exec(select(ConnectedAccount).where(ConnectedAccount.tenant_id == tenant.id)).one().account_id
    )


def test_a_resellers_customer_pays_on_the_resellers_connected_account(
    central, make_tenant, clock, stripe_env, platform_api
):
    tenant = TenantInfo.of(make_tenant("acme"))
    account = _account_of(central, tenant)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        add_card(session, tenant, user.id)
        invoice = _open_invoice(session, user.id)
        payment = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert payment is not None and payment.status is PaymentStatus.SUCCEEDED
        assert invoice.status is InvoiceStatus.PAID
        assert payment.stripe_account_id == account
        profile = session.exec(select(BillingProfile).where(BillingProfile.user_id == user.id)).one()
        assert profile.stripe_account_id == account
        intent_id, customer = payment.stripe_payment_intent_id, profile.stripe_customer_id

    on_acme = {"Stripe-Account": account}
    intent = platform_api.get(f"/v1/payment_intents/{intent_id}", headers=on_acme).json()
    assert (intent["status"], intent["amount"], intent.get("application_fee_amount")) == (
        "succeeded",
        2400,
        None,
    )
    assert platform_api.get(f"/v1/payment_intents/{intent_id}").status_code == 404  # not the platform's
    assert platform_api.get(f"/v1/customers/{customer}").status_code == 404
    assert intent_id not in [i["id"] for i in platform_api.get("/v1/payment_intents").json()["data"]]


def test_a_reseller_without_a_connected_account_takes_no_payments(
    central, make_tenant, clock, stripe_env, platform_api
):
    tenant = TenantInfo.of(make_tenant("beta", connected=False))
    before = len(platform_api.get("/v1/customers", params={"limit": 100}).json()["data"])
    with tenant_db(tenant) as session:
        user = add_customer(session)
        with pytest.raises(connect.PaymentsUnavailable, match="Payments are not available yet"):
            payments.start_card_setup(session, tenant=tenant, user_id=user.id)
        invoice = _open_invoice(session, user.id)
        assert payments.charge_invoice(session, tenant=tenant, invoice=invoice) is None  # no card
        # A card saved before (on the platform's account): the attempt fails, nothing is sent.
        session.add(
            PaymentMethod(
                user_id=user.id,
                stripe_payment_method_id="pm_card_visa",
                is_default=True,
                created_at=clock.now(),
            )
        )
        session.commit()
        attempt = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert attempt.status is PaymentStatus.FAILED and attempt.failure_message == connect.NOT_AVAILABLE
    # Onboarding started but not finished: still no payments.
    link = connect.start_onboarding(central, tenant=tenant, actor=operator("tests"))
    assert connect.refresh(central, tenant=tenant).state is connect.ConnectState.PENDING
    with tenant_db(tenant) as session, pytest.raises(connect.PaymentsUnavailable):
        payments.start_card_setup(session, tenant=tenant, user_id=user.id)
    assert len(platform_api.get("/v1/customers", params={"limit": 100}).json()["data"]) == before
    # The return URL is the tenant's configured domain, never a request's host.
    back = parse_qs(urlsplit(link).query)["return_url"][0]
    assert urlsplit(back).hostname == "beta." + get_settings().platform_domain
    assert urlsplit(back).path == "/reseller/gateways"


def test_account_updated_webhook_flips_the_status(central, make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("gamma", connected=False))
    connect.start_onboarding(central, tenant=tenant, actor=operator("tests"))
    account = _account_of(central, tenant)
    other = TenantInfo.of(make_tenant("delta"))
    secret = get_settings().stripe_connect_webhook_secret
    enabled = {"id": account, "object": "account", "charges_enabled": True, "details_submitted": True}
    with TestClient(api) as http:
        # Signed with the platform's secret, or about another account: nothing changes.
        payload, headers = stripe_signed(
            _event("evt_a1", "account.updated", enabled, account), "whsec_localstripe"
        )
        assert http.post("/webhooks/stripe", content=payload, headers=headers).status_code == 400
        other_account = _account_of(central, other)
        payload, headers = stripe_signed(_event("evt_a2", "account.updated", enabled, other_account), secret)
        assert http.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "ignored"
        central.expire_all()
        assert connect.status(central, tenant=tenant).state is connect.ConnectState.PENDING
        payload, headers = stripe_signed(_event("evt_a3", "account.updated", enabled, account), secret)
        assert http.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "processed"
    central.expire_all()
    assert connect.status(central, tenant=tenant).state is connect.ConnectState.CONNECTED


@pytest.fixture
def pending_at_acme(central, make_tenant, clock, stripe_env):
    """Acme (connected) with a customer whose invoice has a pending card payment; Beta connected."""
    acme, beta = TenantInfo.of(make_tenant("acme")), TenantInfo.of(make_tenant("beta"))
    with tenant_db(acme) as session:
        user = add_customer(session)
        add_card(session, acme, user.id)
        customer = payments.stripe_customer_id(session, tenant=acme, user_id=user.id)
        invoice = _open_invoice(session, user.id, 1500)
        payment = Payment(
            user_id=user.id,
            invoice_id=invoice.id,
            amount_minor=1500,
            currency="USD",
            idempotency_key="key-1",
            stripe_payment_intent_id="pi_acme1",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(payment)
        session.commit()
        intent = {"id": "pi_acme1", "object": "payment_intent", "customer": customer, "metadata": {}}
        return acme, beta, intent, payment.id


def _untouched(tenant: TenantInfo, payment_id: int) -> bool:
    with tenant_db(tenant) as session:
        events = session.exec(select(func.count()).select_from(StripeEvent)).one()
        return session.get(Payment, payment_id).status is PaymentStatus.PENDING and events == 0


def test_a_forged_webhook_aimed_at_another_tenant_changes_nothing(central, pending_at_acme):
    acme, beta, intent, payment_id = pending_at_acme
    connect_secret = get_settings().stripe_connect_webhook_secret
    acme_account, beta_account = _account_of(central, acme), _account_of(central, beta)
    with TestClient(api) as http:
        for event_id, account, secret, status in (
            ("evt_f1", beta_account, connect_secret, 200),  # Beta's account naming Acme's customer
            ("evt_f2", None, get_settings().stripe_webhook_secret, 200),  # the platform's: not Acme's
            ("evt_f3", acme_account, get_settings().stripe_webhook_secret, 400),  # wrong secret
            ("evt_f4", acme_account, "whsec_forged", 400),
            ("evt_f5", "acct_unknown", connect_secret, 200),
        ):
            event = _event(event_id, "payment_intent.succeeded", {**intent, "latest_charge": "ch_1"}, account)
            payload, headers = stripe_signed(event, secret)
            response = http.post("/webhooks/stripe", content=payload, headers=headers)
            assert response.status_code == status, event_id
            if status == 200:
                assert response.json()["status"] == "ignored", event_id
        assert _untouched(acme, payment_id)
        # The same event from Acme's own account, signed for the Connect endpoint, is applied.
        event = _event(
            "evt_ok", "payment_intent.succeeded", {**intent, "latest_charge": "ch_1"}, acme_account
        )
        payload, headers = stripe_signed(event, connect_secret)
        assert http.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "processed"
    with tenant_db(acme) as session:
        assert session.get(Payment, payment_id).status is PaymentStatus.SUCCEEDED


def test_a_refund_from_the_customer_record_is_made_once_on_the_resellers_account(
    central, make_tenant, clock, stripe_env, platform_api
):
    tenant = TenantInfo.of(make_tenant("acme"))
    account = _account_of(central, tenant)
    with tenant_session(tenant) as db:
        user = add_customer(db)
        add_card(db, tenant, user.id)
        invoice = _open_invoice(db, user.id, 5000)
        payment = payments.charge_invoice(db, tenant=tenant, invoice=invoice)
        user_id, payment_id, intent_id = user.id, payment.id, payment.stripe_payment_intent_id

    start, errors = threading.Barrier(2), []

    def click() -> None:
        start.wait()
        try:
            actions.refund(
                actor=owner(tenant),
                tenant=tenant,
                user_id=user_id,
                payment_id=payment_id,
                amount_minor=3000,
                reason="asked",
                request_key=secrets.token_urlsafe(16),  # two forms of 30.00 on 50.00: the cap refuses one
            )
        except DomainError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(errors) == 1
    refunds = platform_api.get(
        "/v1/refunds", params={"payment_intent": intent_id}, headers={"Stripe-Account": account}
    ).json()["data"]
    assert [r["amount"] for r in refunds] == [3000]
    assert platform_api.get(f"/v1/payment_intents/{intent_id}").status_code == 404
    with tenant_session(tenant) as db:
        assert db.get(Payment, payment_id).refunded_minor == 3000


def test_reseller_gateway_addresses_must_be_public_https(central, make_tenant, clock, setting):
    """A reseller names its own PayPal/BTCPay address: never one that points the platform inward."""
    tenant = TenantInfo.of(make_tenant("acme"))
    setting("EZSCALE_GATEWAY_HOST_ALLOWLIST", "")
    configure = partial(
        accounts.configure_reseller,
        central,
        tenant=tenant,
        gateway="btcpay",
        enabled=False,
        credentials={"api_key": "k", "store_id": "s", "webhook_secret": "w"},
        actor=owner(tenant),
    )
    for url in (
        "http://pay.example.com",  # not https
        "https://127.0.0.1:8443",
        "https://localhost",
        "https://169.254.169.254/latest",  # cloud metadata
        "https://10.0.0.5",
        "https://[::1]:9000",
        "https://user:pw@pay.example.com",
        "file:///etc/passwd",
    ):
        with pytest.raises(DomainError):
            configure(api_base=url)
    assert central.exec(select(func.count()).select_from(GatewayAccount)).one() == 0
    with pytest.raises(DomainError, match="owner"):
        configure(api_base="https://93.184.216.34", actor=staff(tenant))
    assert configure(api_base="https://93.184.216.34").api_base == "https://93.184.216.34"
    # The loopback simulators are reachable only when the configuration allows their host.
    setting("EZSCALE_GATEWAY_HOST_ALLOWLIST", "127.0.0.1")
    assert configure(api_base="http://127.0.0.1:9").api_base == "http://127.0.0.1:9"
    setting("EZSCALE_GATEWAY_HOST_ALLOWLIST", "")
    with pytest.raises(DomainError, match="https"):
        accounts.adapter(tenant, "btcpay", require_enabled=False)  # checked again when used


def test_the_demo_reseller_is_connected_at_start_and_again_if_the_simulator_forgot(
    central, make_tenant, clock, stripe_env
):
    from ezscale.demo.gateways import connect_reseller_stripe

    tenant = TenantInfo.of(make_tenant("acme", connected=False))
    first = connect_reseller_stripe(stripe_env)
    assert connect_reseller_stripe(stripe_env) == first  # a restart keeps the account
    row = central.exec(select(ConnectedAccount)).one()
    row.account_id = "acct_forgotten"
    central.add(row)
    central.commit()
    again = connect_reseller_stripe(stripe_env)
    assert again.startswith("acct_") and again != "acct_forgotten"
    central.expire_all()
    assert connect.status(central, tenant=tenant).state is connect.ConnectState.CONNECTED


def _session_of(tenant: TenantInfo, email: str, role, clock) -> str:
    from ezscale.models.tenant import User
    from ezscale.services.accounts.sessions import create_user_session

    with tenant_session(tenant) as db:
        user = User(
            email=email, password_hash="-", role=role, created_at=clock.now(), email_verified_at=clock.now()
        )
        db.add(user)
        db.commit()
        return create_user_session(db, user=user, method="password")


def test_the_owner_connects_from_the_payments_page_and_only_its_people_see_the_banner(
    central, make_tenant, clock, stripe_env
):
    from ezscale.models.tenant import Role
    from ezscale.state.payments_notice import PaymentsNoticeState
    from ezscale.state.reseller_gateways import ResellerGatewaysState
    from tests.state_harness import call, page_state

    tenant = TenantInfo.of(make_tenant("acme", connected=False))
    host = f"acme.{get_settings().platform_domain}:3000"
    sessions = {
        role: _session_of(tenant, f"{role.value}@acme.test", role, clock)
        for role in (Role.RESELLER_OWNER, Role.RESELLER_STAFF, Role.CUSTOMER)
    }

    def notice(role) -> bool:
        state = page_state(PaymentsNoticeState, host=host, token=sessions[role], path="/")
        call(state, "load")
        return state.payments_off

    assert notice(Role.RESELLER_OWNER) and notice(Role.RESELLER_STAFF)
    assert not notice(Role.CUSTOMER)  # customers only ever see "Payments are not available yet"

    staff_page = page_state(
        ResellerGatewaysState, host=host, token=sessions[Role.RESELLER_STAFF], path="/reseller/gateways"
    )
    call(staff_page, "load")
    assert staff_page.denied
    call(staff_page, "connect_stripe")
    assert "Only the reseller's owner" in staff_page.error
    assert central.exec(select(func.count()).select_from(ConnectedAccount)).one() == 0

    page = page_state(
        ResellerGatewaysState, host=host, token=sessions[Role.RESELLER_OWNER], path="/reseller/gateways"
    )
    call(page, "load")
    assert not page.denied and page.stripe_state == "not_connected"
    redirect = call(page, "connect_stripe")
    assert page.error == ""
    script = str(redirect)
    onboarding = script[script.index(stripe_env) :].split('\\"')[0].split('"')[0]
    from ezscale.simulators.stripe_connect import complete_onboarding

    back = complete_onboarding(onboarding)
    assert back == f"http://{host}/reseller/gateways?connected=1"  # the configured domain
    call(page, "load")  # the return: the status is read back from Stripe
    assert page.stripe_state == "connected"
    assert not notice(Role.RESELLER_OWNER)


def test_the_public_connect_secret_is_refused_outside_the_demo(central, pending_at_acme, setting):
    acme, _beta, intent, payment_id = pending_at_acme
    setting("EZSCALE_DEMO", "0")
    setting("STRIPE_WEBHOOK_SECRET", "whsec_platform_real")
    event = _event(
        "evt_pub", "payment_intent.succeeded", {**intent, "latest_charge": "ch_1"}, _account_of(central, acme)
    )
    payload, headers = stripe_signed(event, get_settings().stripe_connect_webhook_secret)
    with TestClient(api) as http:
        assert http.post("/webhooks/stripe", content=payload, headers=headers).status_code == 503
    assert _untouched(acme, payment_id)
    setting("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_connect_real")
    payload, headers = stripe_signed(event, "whsec_connect_real")
    with TestClient(api) as http:
        assert http.post("/webhooks/stripe", content=payload, headers=headers).json()["status"] == "processed"


def test_two_clicks_on_refund_in_the_customer_record_refund_once(
    central, make_tenant, clock, stripe_env, platform_api
):
    """The record page's Refund pressed twice (the events of a tab run one after the other): the
    first refunds at the reseller's account, the second finds the form spent and refunds nothing."""
    from ezscale.models.tenant import Role
    from ezscale.state.reseller_customers import ResellerCustomerState
    from tests.state_harness import call, page_state

    tenant = TenantInfo.of(make_tenant("acme"))
    account = _account_of(central, tenant)
    token = _session_of(tenant, "boss@acme.test", Role.RESELLER_OWNER, clock)
    with tenant_session(tenant) as db:
        user = add_customer(db)
        add_card(db, tenant, user.id)
        payment = payments.charge_invoice(db, tenant=tenant, invoice=_open_invoice(db, user.id, 5000))
        user_id, payment_id, intent_id = user.id, payment.id, payment.stripe_payment_intent_id
    host = f"acme.{get_settings().platform_domain}:3000"
    page = page_state(
        ResellerCustomerState, host=host, token=token, path="/reseller/customer", query=f"user={user_id}"
    )
    call(page, "load")
    assert page.error == "" and "money" in page.can
    call(page, "set_form", "refund_amount", "10.00")
    call(page, "set_form", "refund_reason", "goodwill")
    call(page, "refund", str(payment_id))
    assert page.error == ""
    call(page, "refund", str(payment_id))
    assert page.error != ""  # nothing left to send: the amount was spent by the first click
    refunds = platform_api.get(
        "/v1/refunds", params={"payment_intent": intent_id}, headers={"Stripe-Account": account}
    ).json()["data"]
    assert [r["amount"] for r in refunds] == [1000]
    with tenant_session(tenant) as db:
        assert db.get(Payment, payment_id).refunded_minor == 1000


def test_a_refused_payment_account_setting_says_why_and_saves_nothing(central, make_tenant, clock):
    from ezscale.models.tenant import Role
    from ezscale.state.reseller_gateways import ResellerGatewaysState
    from tests.state_harness import call, page_state

    tenant = TenantInfo.of(make_tenant("acme"))
    host = f"acme.{get_settings().platform_domain}:3000"
    token = _session_of(tenant, "owner@acme.test", Role.RESELLER_OWNER, clock)
    page = page_state(ResellerGatewaysState, host=host, token=token, path="/reseller/gateways")
    call(page, "load")
    form = {"gateway": "btcpay", "api_base": "https://10.0.0.5", "api_key": "k", "store_id": "s"}
    assert call(page, "save", form) is None  # no "Saved."
    assert "BTCPay" in page.error
    assert call(page, "switch", "btcpay", True) is None
    assert "Enter the Bitcoin (BTCPay) API address" in page.error
    assert central.exec(select(func.count()).select_from(GatewayAccount)).one() == 0
