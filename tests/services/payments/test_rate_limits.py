"""Each gateway client under the simulators' rate limits (`simulators/ratelimit.py`): a 429 waits
what its `Retry-After` asks (through the injected sleeper, which also moves the limiter's clock),
is resent with the same idempotency key, and the invoice is charged once, also when the first
request ran and its reply was lost in a 5xx."""

from collections.abc import Callable

import pytest

from ezscale.money import Money
from ezscale.services.billing.stripe_gateway import PaymentProviderUnavailable, StripeGateway, gateway
from ezscale.services.payments.btcpay import BTCPayGateway
from ezscale.services.payments.btcpay_client import BTCPayClient
from ezscale.services.payments.btcpay_client import Credentials as BTCPayCredentials
from ezscale.services.payments.gateway import GatewayUnavailable
from ezscale.services.payments.paypal import PayPalGateway
from ezscale.services.payments.paypal_client import Credentials as PayPalCredentials
from ezscale.services.payments.paypal_client import PayPalClient
from ezscale.simulators import btcpay as btcpay_sim
from ezscale.simulators import paypal as paypal_sim
from ezscale.simulators import ratelimit
from ezscale.simulators import stripe as stripe_simulator


class Sleeper:
    """Records each wait; moves the limiter's clock by it and runs the next scripted change."""

    def __init__(self, steps: list[Callable[[], object]] | None = None) -> None:
        self.slept: list[float] = []
        self.now = 0.0
        self.steps = list(steps or [])

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.steps:
            self.steps.pop(0)()


def test_limiter_bucket_refuses_with_retry_after_and_refills_by_the_clock():
    now = [0.0]
    limiter = ratelimit.RateLimiter(rate=4, burst=2, clock=lambda: now[0])
    assert [limiter.check().status for _ in range(3)] == [None, None, 429]
    refused = limiter.check()
    assert refused.headers() == {"Retry-After": "0.250"}
    now[0] += 0.25
    assert limiter.check().status is None
    assert limiter.snapshot()["limited"] == 2 and limiter.snapshot()["admitted"] == 3
    with pytest.raises(ValueError):
        limiter.configure(error_429=0.7, error_5xx=0.5)
    with pytest.raises(ValueError):
        limiter.configure(speed=3)


def test_stripe_429_is_waited_and_resent_with_the_same_key_one_charge(stripe_env):
    client = gateway().client
    customer = client.v1.customers.create({"email": "rl@example.test"})
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = client.v1.payment_methods.create({"type": "card", "card": card})
    client.v1.payment_methods.attach(method.id, {"customer": customer.id})
    # The first request is carried out and its reply lost (500); the resend meets the rate limit
    # (429, Retry-After 0.5 s); the next resend gets the first result back.
    sleeper = Sleeper(
        [
            lambda: stripe_simulator.configure_limits(
                stripe_env, rate=2, burst=100, error_5xx=0, error_429=1
            ),
            lambda: stripe_simulator.configure_limits(stripe_env, rate=0, error_429=0),
        ]
    )
    stripe_simulator.configure_limits(stripe_env, error_5xx=1)
    try:
        result = StripeGateway(client, sleep=sleeper).charge_off_session(
            customer_id=customer.id,
            payment_method_id=method.id,
            amount_minor=1234,
            currency="EUR",
            idempotency_key="rl-test:invoice-1:attempt-1",
            metadata={"payment_key": "rl-test:invoice-1:attempt-1"},
        )
    finally:
        stripe_simulator.configure_limits(stripe_env, rate=0, error_429=0, error_5xx=0)
    assert result.status == "succeeded"
    assert 0.5 <= sleeper.slept[1] <= 0.75  # what Retry-After asked, plus jitter
    charges = client.v1.charges.list({"customer": customer.id, "limit": 100}).data
    assert [(c.amount, c.status) for c in charges] == [(1234, "succeeded")]


@pytest.fixture
def limited_paypal():
    sim = paypal_sim.PayPalSimulator(hang_seconds=1.0)
    running = paypal_sim.serve(sim)
    yield sim
    running.stop()


def test_paypal_429_is_waited_and_resent_with_the_same_request_id_one_capture(limited_paypal):
    sim = limited_paypal
    sleeper = Sleeper()
    sim.limiter = ratelimit.RateLimiter(clock=lambda: sleeper.now)
    client = PayPalClient(
        sim.base_url, PayPalCredentials(paypal_sim.DEMO_CLIENT_ID, paypal_sim.DEMO_SECRET), sleep=sleeper
    )
    client.token(renew=True)
    wallet = sim.save_wallet()
    sim.limiter.configure(error_5xx=1)  # the vault order is created and captured, its reply lost
    sleeper.steps = [
        lambda: sim.limiter.configure(rate=4, burst=1, error_5xx=0, error_429=1),  # then a 429
        lambda: sim.limiter.configure(rate=4, burst=1, error_429=0),
    ]
    key = "rl-test:invoice-2:attempt-1"
    result = PayPalGateway(client).charge_saved(
        customer_ref=None,
        method_token=wallet,
        amount=Money(1800, "GBP"),
        idempotency_key=key,
        metadata={"invoice_id": "2"},
    )
    assert result.status == "succeeded"
    assert 0.25 <= sleeper.slept[1] <= 0.375  # Retry-After of a 4/s limit, plus jitter
    captures = [c for c in sim.captures.values() if c["invoice_id"] == key]
    assert len(captures) == 1 and captures[0]["amount"] == {"currency_code": "GBP", "value": "18.00"}
    assert result.gateway_ref == captures[0]["id"]
    assert sim.calls.count("create_order") == 1  # the resend was answered from PayPal-Request-Id


def test_paypal_write_without_a_key_is_not_resent_after_a_5xx(limited_paypal):
    sim = limited_paypal
    client = PayPalClient(
        sim.base_url, PayPalCredentials(paypal_sim.DEMO_CLIENT_ID, paypal_sim.DEMO_SECRET), sleep=Sleeper()
    )
    client.token(renew=True)
    sim.limiter.configure(error_5xx=1)
    with pytest.raises(GatewayUnavailable):
        client.create_webhook("http://127.0.0.1:9/hook", ["*"])
    assert len(sim.webhooks) == 1  # made once, never twice


def test_btcpay_429_is_waited_and_a_lost_create_is_found_not_repeated():
    sim = btcpay_sim.BTCPaySimulator(hang_seconds=1.0)
    running = btcpay_sim.serve(sim)
    try:
        sleeper = Sleeper()
        sim.limiter = ratelimit.RateLimiter(rate=5, burst=1, clock=lambda: sleeper.now)
        client = BTCPayClient(
            sim.base_url, BTCPayCredentials(btcpay_sim.DEMO_API_KEY, btcpay_sim.DEMO_STORE), sleep=sleeper
        )
        # find (GET) takes the only token; the POST meets the limit (429, 0.2 s), then runs but
        # its reply is lost (500): not resent, the invoice is found by its orderId instead.
        sleeper.steps = [lambda: sim.limiter.configure(rate=5, burst=1, error_5xx=1)]
        original_check = sim.limiter.check

        def check_then_heal() -> ratelimit.Verdict:
            verdict = original_check()
            if verdict.after:
                sim.limiter.error_5xx = 0
            return verdict

        sim.limiter.check = check_then_heal  # type: ignore[method-assign]
        checkout = BTCPayGateway(client).start_checkout(
            customer_ref=None,
            amount=Money(2500, "USD"),
            invoice_ref="INV-3",
            description="Renewal",
            return_url="http://127.0.0.1:9/back",
            cancel_url="http://127.0.0.1:9/back",
            idempotency_key="rl-test:invoice-3:attempt-1",
            save_method=False,
            metadata={},
        )
    finally:
        running.stop()
    assert 0.2 <= sleeper.slept[0] <= 0.3
    assert list(sim.invoices) == [checkout.reference]


def test_a_stripe_create_without_a_key_is_not_resent_after_a_lost_reply(stripe_env):
    client = gateway().client
    sleeper = Sleeper()
    stripe_simulator.configure_limits(stripe_env, error_5xx=1)  # carried out, reply lost
    try:
        with pytest.raises(PaymentProviderUnavailable):
            StripeGateway(client, sleep=sleeper).create_customer(
                email="lost@example.test", name="Lost Reply", metadata={}
            )
    finally:
        stripe_simulator.configure_limits(stripe_env, error_5xx=0)
    made = client.v1.customers.list({"email": "lost@example.test", "limit": 100}).data  # of any number
    assert len(made) == 1 and sleeper.slept == []  # the one the simulator made; no second one
