"""The PayPal simulator speaks PayPal's shapes: OAuth errors, PayPal-Request-Id replays (200),
the approval round trip, refund limits, and signatures its verify endpoint accepts only intact."""

import base64
import json

import httpx
import pytest

from ezscale.simulators.paypal import DEMO_CLIENT_ID, DEMO_SECRET, PayPalSimulator, serve


@pytest.fixture
def sim():
    simulator = PayPalSimulator()
    running = serve(simulator)
    yield simulator
    running.stop()


def _token(sim) -> dict[str, str]:
    reply = httpx.post(
        f"{sim.base_url}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(DEMO_CLIENT_ID, DEMO_SECRET),
    )
    assert reply.status_code == 200 and reply.json()["expires_in"] > 0
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


ORDER = {
    "intent": "CAPTURE",
    "purchase_units": [{"invoice_id": "1001", "amount": {"currency_code": "EUR", "value": "24.99"}}],
    "payment_source": {
        "paypal": {"experience_context": {"return_url": "http://shop/r", "cancel_url": "http://shop/c"}}
    },
}


def test_oauth_refuses_bad_credentials_in_the_oauth_shape(sim):
    reply = httpx.post(
        f"{sim.base_url}/v1/oauth2/token", data={"grant_type": "client_credentials"}, auth=("x", "y")
    )
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"
    assert (
        httpx.get(
            f"{sim.base_url}/v2/checkout/orders/X", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )


def test_order_replay_approval_capture_and_refund(sim):
    auth = _token(sim)
    first = httpx.post(
        f"{sim.base_url}/v2/checkout/orders", json=ORDER, headers={**auth, "PayPal-Request-Id": "k1"}
    )
    again = httpx.post(
        f"{sim.base_url}/v2/checkout/orders", json=ORDER, headers={**auth, "PayPal-Request-Id": "k1"}
    )
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    duplicate = httpx.post(f"{sim.base_url}/v2/checkout/orders", json=ORDER, headers=auth)
    assert duplicate.status_code == 422 and duplicate.json()["details"][0]["issue"] == "DUPLICATE_INVOICE_ID"
    order = first.json()
    assert order["status"] == "PAYER_ACTION_REQUIRED"
    early = httpx.post(f"{sim.base_url}/v2/checkout/orders/{order['id']}/capture", json={}, headers=auth)
    assert early.json()["details"][0]["issue"] == "ORDER_NOT_APPROVED"
    back = httpx.post(f"{sim.base_url}/checkoutnow/approve", data={"token": order["id"]})
    assert back.headers["location"] == f"http://shop/r?token={order['id']}&PayerID=SIMPAYER1"
    captured = httpx.post(
        f"{sim.base_url}/v2/checkout/orders/{order['id']}/capture", json={}, headers=auth
    ).json()
    capture = captured["purchase_units"][0]["payments"]["captures"][0]
    assert captured["status"] == "COMPLETED" and capture["status"] == "COMPLETED"
    refund = f"{sim.base_url}/v2/payments/captures/{capture['id']}/refund"
    over = httpx.post(refund, json={"amount": {"currency_code": "EUR", "value": "30.00"}}, headers=auth)
    assert over.json()["details"][0]["issue"] == "REFUND_AMOUNT_EXCEEDED"
    assert httpx.post(refund, json={}, headers=auth).json()["amount"]["value"] == "24.99"
    assert httpx.post(refund, json={}, headers=auth).json()["details"][0]["issue"] == "CAPTURE_FULLY_REFUNDED"


def test_signatures_verify_only_intact(sim):
    auth = _token(sim)
    hook = httpx.post(
        f"{sim.base_url}/v1/notifications/webhooks",
        json={"url": "http://x/h", "event_types": [{"name": "*"}]},
        headers=auth,
    ).json()
    delivery = sim.signed({"id": "WH-1", "event_type": "X", "resource": {}}, webhook_id=hook["id"])
    headers = {k.lower(): v for k, v in delivery.headers.items()}

    def verify(event, webhook_id=hook["id"], sig=headers["paypal-transmission-sig"]):
        body = {
            "auth_algo": headers["paypal-auth-algo"],
            "cert_url": headers["paypal-cert-url"],
            "transmission_id": headers["paypal-transmission-id"],
            "transmission_sig": sig,
            "transmission_time": headers["paypal-transmission-time"],
            "webhook_id": webhook_id,
            "webhook_event": event,
        }
        reply = httpx.post(
            f"{sim.base_url}/v1/notifications/verify-webhook-signature", json=body, headers=auth
        )
        return reply.json()["verification_status"]

    event = json.loads(delivery.body)
    assert verify(event) == "SUCCESS"
    assert verify({**event, "id": "WH-2"}) == "FAILURE"
    assert verify(event, webhook_id="WHOTHER") == "FAILURE"
    assert verify(event, sig=base64.b64encode(b"junk").decode()) == "FAILURE"
