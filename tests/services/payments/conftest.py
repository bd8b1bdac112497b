"""Fixtures of the gateway tests: PayPal and BTCPay simulators on loopback, a tenant with the
gateway switched on (webhook registered at the simulator), open invoices."""

from collections.abc import Iterator

import pytest

from ezscale.db import central_session
from ezscale.services.billing import invoices
from ezscale.services.core.audit import operator
from ezscale.services.payments import accounts, http_retry
from ezscale.services.payments.btcpay_client import BTCPayClient
from ezscale.services.payments.btcpay_client import Credentials as BTCPayCredentials
from ezscale.services.payments.paypal_client import Credentials as PayPalCredentials
from ezscale.services.payments.paypal_client import PayPalClient
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.simulators import btcpay as btcpay_sim
from ezscale.simulators import paypal as paypal_sim

ACTOR = operator("test")


@pytest.fixture(autouse=True)
def _fast_gateways(monkeypatch: pytest.MonkeyPatch) -> None:
    """No back-off waits, and a lost response shows within a second."""
    monkeypatch.setattr(http_retry, "BASE_DELAY_SECONDS", 0)
    monkeypatch.setattr(accounts, "TIMEOUT_SECONDS", 0.5)


@pytest.fixture
def paypal() -> Iterator[paypal_sim.PayPalSimulator]:
    sim = paypal_sim.PayPalSimulator(hang_seconds=1.0)
    running = paypal_sim.serve(sim)
    yield sim
    running.stop()


@pytest.fixture
def btcpay() -> Iterator[btcpay_sim.BTCPaySimulator]:
    sim = btcpay_sim.BTCPaySimulator(hang_seconds=1.0)
    running = btcpay_sim.serve(sim)
    yield sim
    running.stop()


def enable_paypal(tenant: TenantInfo, sim: paypal_sim.PayPalSimulator) -> str:
    """Switch PayPal on for the tenant with the simulator's app; returns the webhook id."""
    client = PayPalClient(sim.base_url, PayPalCredentials(paypal_sim.DEMO_CLIENT_ID, paypal_sim.DEMO_SECRET))
    webhook_id = client.create_webhook(f"http://127.0.0.1:9/webhooks/paypal/{tenant.id}", ["*"])
    with central_session() as central:
        accounts.configure(
            central,
            tenant_id=tenant.id,
            gateway="paypal",
            enabled=True,
            api_base=sim.base_url,
            credentials={
                "client_id": paypal_sim.DEMO_CLIENT_ID,
                "secret": paypal_sim.DEMO_SECRET,
                "webhook_id": webhook_id,
            },
            actor=ACTOR,
        )
    return webhook_id


def enable_btcpay(tenant: TenantInfo, sim: btcpay_sim.BTCPaySimulator, secret: str = "hook-secret") -> None:
    """Switch BTCPay on for the tenant with the simulator's store and a registered webhook."""
    client = BTCPayClient(sim.base_url, BTCPayCredentials(btcpay_sim.DEMO_API_KEY, btcpay_sim.DEMO_STORE))
    client.create_webhook(f"http://127.0.0.1:9/webhooks/btcpay/{tenant.id}", secret)
    with central_session() as central:
        accounts.configure(
            central,
            tenant_id=tenant.id,
            gateway="btcpay",
            enabled=True,
            api_base=sim.base_url,
            credentials={
                "api_key": btcpay_sim.DEMO_API_KEY,
                "store_id": btcpay_sim.DEMO_STORE,
                "webhook_secret": secret,
            },
            actor=ACTOR,
        )


def open_invoice(session, user_id: int, amount: int = 2500, currency: str = "USD"):
    """An issued, open invoice of one line."""
    invoice = invoices.create_draft(session, user_id=user_id, currency=currency)
    invoices.add_line(session, invoice, description="VPS", unit_minor=amount)
    invoices.issue(session, invoice)
    session.commit()
    return invoice
