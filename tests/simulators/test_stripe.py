"""The Stripe simulator honours `Idempotency-Key` the way Stripe does (localstripe alone does not)."""

import secrets

import pytest
import stripe
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ezscale.services.billing.stripe_gateway import gateway
from ezscale.simulators.stripe import IDEMPOTENCY_TTL_SECONDS, idempotency_middleware
from tests.factories import charges_of
from tests.loops import run_on_own_loop


def _card(number: str) -> dict:
    return {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}


@pytest.fixture
def customer_and_card(platform, stripe_env) -> tuple[str, str]:
    client = gateway().client
    customer = client.v1.customers.create({"email": "idem@example.test"})
    method = client.v1.payment_methods.create({"type": "card", "card": _card("4242424242424242")})
    client.v1.payment_methods.attach(method.id, {"customer": customer.id})
    return customer.id, method.id


def _charge(client, customer: str, method: str, key: str, amount: int = 1500):
    params = {
        "amount": amount,
        "currency": "usd",
        "customer": customer,
        "payment_method": method,
        "off_session": True,
        "confirm": True,
        "metadata": {"invoice_id": "7"},
    }
    return client.v1.payment_intents.create(params, {"idempotency_key": key})


def test_same_key_replays_the_first_charge(customer_and_card):
    customer, method = customer_and_card
    client = gateway().client
    key = f"test-{secrets.token_hex(4)}"
    first = _charge(client, customer, method, key)
    again = _charge(client, customer, method, key)
    assert again.id == first.id and again.status == "succeeded"
    assert [c.amount for c in charges_of(customer)] == [1500]
    other = _charge(client, customer, method, key + "-2")
    assert other.id != first.id
    assert sorted(c.amount for c in charges_of(customer)) == [1500, 1500]


def test_same_key_with_other_parameters_is_refused(customer_and_card):
    customer, method = customer_and_card
    client = gateway().client
    key = f"test-{secrets.token_hex(4)}"
    _charge(client, customer, method, key)
    with pytest.raises(stripe.IdempotencyError) as refused:
        _charge(client, customer, method, key, amount=1600)
    assert refused.value.http_status == 400
    assert [c.amount for c in charges_of(customer)] == [1500]


def test_a_declined_charge_is_replayed_as_declined(customer_and_card):
    customer, _ = customer_and_card
    client = gateway().client
    declining = client.v1.payment_methods.create({"type": "card", "card": _card("4000000000000341")})
    client.v1.payment_methods.attach(declining.id, {"customer": customer})
    key = f"test-{secrets.token_hex(4)}"
    with pytest.raises(stripe.CardError) as first:
        _charge(client, customer, declining.id, key)
    with pytest.raises(stripe.CardError) as again:
        _charge(client, customer, declining.id, key)
    assert again.value.json_body == first.value.json_body
    assert len(charges_of(customer)) == 1


def test_replays_end_after_24_hours():
    """The middleware on a one-route app with an injected clock: a key is kept 24 hours."""
    now = [0.0]
    made = []

    async def create(request: web.Request) -> web.Response:
        made.append(await request.text())
        return web.json_response({"id": f"obj_{len(made)}"})

    async def scenario() -> list[str]:
        app = web.Application(middlewares=[idempotency_middleware(web, now=lambda: now[0])])
        app.router.add_post("/v1/things", create)
        async with TestClient(TestServer(app)) as client:
            ids = []
            for advance in (0, IDEMPOTENCY_TTL_SECONDS - 1, 2):
                now[0] += advance
                reply = await client.post("/v1/things", data={"a": "1"}, headers={"Idempotency-Key": "k"})
                ids.append((await reply.json())["id"])
            return ids

    assert run_on_own_loop(scenario()) == ["obj_1", "obj_1", "obj_2"]
