"""Helpers shared by the billing tests: a tenant database with customers and plans."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import Session, select

from ezscale import clock
from ezscale.models.tenant import Plan, User
from ezscale.services.billing import payments
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.tenancy import TenantInfo, tenant_session
from ezscale.settings import get_settings
from ezscale.simulators import stripe as stripe_simulator


def add_customer(session: Session, email: str = "customer@example.test", **fields) -> User:
    user = User(
        email=email, password_hash="-", name=fields.pop("name", "Pat Customer"), created_at=clock.now()
    )
    for key, value in fields.items():
        setattr(user, key, value)
    session.add(user)
    session.commit()
    return user


def plan(session: Session, code: str) -> Plan:
    return session.exec(select(Plan).where(Plan.code == code)).one()


@contextmanager
def tenant_db(tenant) -> Iterator[Session]:
    with tenant_session(TenantInfo.of(tenant)) as session:
        yield session


@pytest.fixture(scope="session")
def stripe_sim() -> Iterator[str]:
    """A localstripe process on a free loopback port for the whole test session."""
    port = stripe_simulator.free_port()
    process = stripe_simulator.start(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_env(stripe_sim, monkeypatch) -> str:
    """Point the billing services at the simulator (no retry back-off in tests)."""
    monkeypatch.setenv("STRIPE_API_BASE", stripe_sim)
    monkeypatch.setenv("EZSCALE_STRIPE_RETRY_BASE_SECONDS", "0")
    get_settings.cache_clear()
    return stripe_sim


def add_card(session: Session, tenant: TenantInfo, user_id: int, number: str = "4242424242424242"):
    """Save a card the way the card page does: SetupIntent, confirm (Stripe.js's part), save."""
    gw = gateway()
    secret = payments.start_card_setup(session, tenant=tenant, user_id=user_id)
    intent_id = secret.split("_secret_")[0]
    gw.client.v1.setup_intents.confirm(
        intent_id,
        {
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        },
    )
    return payments.save_card(session, tenant=tenant, user_id=user_id, setup_intent_id=intent_id)


def charges_of(customer_id: str) -> list:
    """Every charge the simulator made on a customer (succeeded or not), through the Stripe API."""
    return list(gateway().client.v1.charges.list({"customer": customer_id, "limit": 100}).data)


def card_charges_by_invoice(customer_ids: list[str]) -> Counter:
    """Succeeded charges at the simulator per invoice id (from their PaymentIntent's metadata)."""
    client = gateway().client
    counted: Counter = Counter()
    for customer_id in customer_ids:
        for charge in charges_of(customer_id):
            if charge.status == "succeeded":
                intent = client.v1.payment_intents.retrieve(charge.payment_intent)
                counted[int(intent.metadata["invoice_id"])] += 1
    return counted
