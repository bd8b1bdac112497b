"""Gateway accounts (on/off, credentials encrypted at rest, connection test) and paying an open
invoice with a one-off card through Stripe (a PaymentIntent confirmed as Stripe.js would)."""

import pytest
from sqlalchemy import text
from sqlmodel import select

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.billing import Payment, PaymentMethod
from ezscale.models.tenant import InvoiceStatus
from ezscale.services.billing import views
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.payments import accounts, checkout
from ezscale.services.payments.gateway import GatewayName
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.simulators import paypal as paypal_sim
from tests.factories import add_customer, on_account, tenant_db
from tests.services.payments.conftest import ACTOR, enable_btcpay, open_invoice


def test_gateways_switch_on_only_with_credentials_kept_encrypted(make_tenant, clock, paypal):
    tenant = TenantInfo.of(make_tenant("acc"))
    assert accounts.enabled_gateways(tenant.id) == []  # a reseller's cards wait for its own Stripe
    house = TenantInfo.of(make_tenant("house", is_house=True))
    assert accounts.enabled_gateways(house.id) == [GatewayName.STRIPE]
    with central_session() as central:
        with pytest.raises(DomainError, match="needs client id, secret, webhook id"):
            accounts.configure(
                central,
                tenant_id=tenant.id,
                gateway="paypal",
                enabled=True,
                api_base=paypal.base_url,
                actor=ACTOR,
            )
        with pytest.raises(DomainError, match="API address"):
            accounts.configure(
                central, tenant_id=tenant.id, gateway="paypal", enabled=False, api_base="ftp://x", actor=ACTOR
            )
        with pytest.raises(DomainError, match="No such payment gateway"):
            accounts.configure(central, tenant_id=tenant.id, gateway="bank", enabled=True, actor=ACTOR)
        view = accounts.configure(
            central,
            tenant_id=tenant.id,
            gateway="paypal",
            enabled=True,
            api_base=paypal.base_url,
            credentials={
                "client_id": paypal_sim.DEMO_CLIENT_ID,
                "secret": paypal_sim.DEMO_SECRET,
                "webhook_id": "W1",
            },
            actor=ACTOR,
        )
        assert view.enabled and view.public == {"client_id": paypal_sim.DEMO_CLIENT_ID, "webhook_id": "W1"}
        assert view.secrets_set == ["secret"]
        raw = central.exec(text("SELECT credentials FROM gateway_accounts")).scalar_one()
        assert paypal_sim.DEMO_SECRET not in raw and paypal_sim.DEMO_CLIENT_ID not in raw
        # A blank secret keeps the stored one.
        accounts.configure(
            central,
            tenant_id=tenant.id,
            gateway="paypal",
            enabled=True,
            credentials={"secret": ""},
            actor=ACTOR,
        )
    assert accounts.test_connection(tenant, "paypal").startswith("PayPal answered")
    assert accounts.enabled_gateways(tenant.id) == [GatewayName.PAYPAL]
    with central_session() as central:
        accounts.configure(
            central,
            tenant_id=tenant.id,
            gateway="paypal",
            enabled=True,
            credentials={"secret": "wrong"},
            actor=ACTOR,
        )
        accounts.configure(central, tenant_id=tenant.id, gateway="stripe", enabled=False, actor=ACTOR)
    with pytest.raises(DomainError, match="credentials"):
        accounts.test_connection(tenant, "paypal")
    assert accounts.enabled_gateways(tenant.id) == [GatewayName.PAYPAL]


def test_disabled_gateway_cannot_take_a_checkout(make_tenant, clock, btcpay):
    tenant = TenantInfo.of(make_tenant("acc"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice = open_invoice(session, user.id)
        with pytest.raises(DomainError, match="not available"):
            checkout.start(session, tenant=tenant, user_id=user.id, invoice_id=invoice.id, gateway="btcpay")
        enable_btcpay(tenant, btcpay)
        other = add_customer(session, "other@example.test")
        with pytest.raises(DomainError, match="No such invoice"):
            checkout.start(session, tenant=tenant, user_id=other.id, invoice_id=invoice.id, gateway="btcpay")
    assert btcpay.invoices == {}


def test_one_off_card_pays_an_open_invoice_without_saving_it(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("card"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice = open_invoice(session, user.id)
        started = checkout.start(
            session, tenant=tenant, user_id=user.id, invoice_id=invoice.id, gateway="stripe"
        )
        assert started.client_secret and not started.redirect_url
        gateway().client.v1.setup_intents.confirm(  # Stripe.js's part
            started.reference,
            {
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                }
            },
            on_account(tenant),
        )
        row = checkout.find(session, gateway="stripe", reference=started.reference)
        checkout.refresh(session, tenant=tenant, checkout=row)
        checkout.refresh(session, tenant=tenant, checkout=row)
        session.refresh(invoice)
        assert invoice.status is InvoiceStatus.PAID
        [payment] = session.exec(select(Payment)).all()
        assert (payment.gateway, payment.amount_minor) == ("stripe", 2500)
        intent = gateway().client.v1.payment_intents.retrieve(
            payment.stripe_payment_intent_id, None, on_account(tenant)
        )
        assert intent.amount == 2500 and intent.status == "succeeded"
        assert session.exec(select(PaymentMethod)).all() == []
        assert views.default_method_label(session, user_id=user.id) == ""  # no "default card" wording
