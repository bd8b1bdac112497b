"""The BTCPay simulator: Greenfield auth and errors, the checkout page's payer actions, and
`BTCPay-Sig` exactly as the reference's test vector."""

import httpx
import pytest

from ezscale.services.payments.btcpay import signature
from ezscale.simulators.btcpay import DEMO_API_KEY, DEMO_STORE, BTCPaySimulator, serve, sign

VECTOR_BODY = (
    b'{"deliveryId":"d1","webhookId":"w1","originalDeliveryId":"d1","isRedelivery":false,"type":"InvoiceSettled",'
    b'"timestamp":1767323045,"storeId":"s1","invoiceId":"inv1","metadata":{"orderId":"1001"},'
    b'"manuallyMarked":false,"overPaid":false}'
)
VECTOR_SIG = "sha256=b90958e9dce10f1ffc4d2e45d3c03e2af8f96a984e2b9f3b4cd17ee6830eda60"


@pytest.fixture
def sim():
    simulator = BTCPaySimulator()
    running = serve(simulator)
    yield simulator
    running.stop()


def test_signature_matches_the_reference_vector():
    assert sign("HelloWorld", VECTOR_BODY) == VECTOR_SIG == signature("HelloWorld", VECTOR_BODY)


def test_invoice_api_and_checkout_page(sim):
    api = f"{sim.base_url}/api/v1/stores/{DEMO_STORE}/invoices"
    auth = {"Authorization": f"token {DEMO_API_KEY}"}
    assert httpx.get(api, headers={"Authorization": "token wrong"}).status_code == 401
    bad = httpx.post(api, json={"amount": "-1", "currency": "USD"}, headers=auth)
    assert bad.status_code == 400 and bad.json()[0]["path"] == "amount"
    body = {
        "amount": "20.00",
        "currency": "USD",
        "metadata": {"orderId": "o1"},
        "checkout": {"redirectURL": "http://s/r"},
    }
    invoice = httpx.post(api, json=body, headers=auth).json()
    assert invoice["status"] == "New" and invoice["checkoutLink"].endswith(invoice["id"])
    page = httpx.get(invoice["checkoutLink"])
    assert "Pay partial" in page.text and "Let expire" in page.text
    assert httpx.post(f"{invoice['checkoutLink']}/partial").headers["location"] == f"/i/{invoice['id']}"
    assert httpx.post(f"{invoice['checkoutLink']}/over").headers["location"] == "http://s/r"
    settled = httpx.get(f"{api}/{invoice['id']}", headers=auth).json()
    assert (settled["status"], settled["additionalStatus"], settled["paidAmount"]) == (
        "Settled",
        "PaidOver",
        "22.00",
    )
    assert [i["id"] for i in httpx.get(api, params={"orderId": "o1"}, headers=auth).json()] == [invoice["id"]]
