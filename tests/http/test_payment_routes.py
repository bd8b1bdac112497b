"""The gateways' HTTP edge: PayPal/BTCPay webhooks per tenant (400 for forged, 409 for too
early, one effect for replays) and the return from a PayPal checkout."""

import httpx
from sqlmodel import select
from starlette.testclient import TestClient

from ezscale.http.app import api
from ezscale.models.billing import Payment
from ezscale.models.tenant import Invoice, InvoiceStatus
from ezscale.services.payments import checkout
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_customer, tenant_db
from tests.services.payments.conftest import (  # noqa: F401  (fixtures)
    _fast_gateways,
    btcpay,
    enable_btcpay,
    enable_paypal,
    open_invoice,
    paypal,
)


def test_paypal_return_captures_and_shows_the_invoice(make_tenant, clock, paypal):  # noqa: F811
    tenant = TenantInfo.of(make_tenant("pp"))
    enable_paypal(tenant, paypal)
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice = open_invoice(session, user.id)
        started = checkout.start(
            session, tenant=tenant, user_id=user.id, invoice_id=invoice.id, gateway="paypal"
        )
    token = started.redirect_url.split("token=")[1]
    back = httpx.post(f"{paypal.base_url}/checkoutnow/approve", data={"token": token}).headers["location"]
    client = TestClient(api, base_url="http://pp.localhost:3000")
    response = client.get(back.removeprefix("http://pp.localhost:3000"), follow_redirects=False)
    assert (
        response.status_code == 303
        and response.headers["location"] == f"/client/billing?invoice={invoice.id}"
    )
    with tenant_db(tenant) as session:
        assert session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
    # A return for a checkout that does not exist, or from another host, only goes to billing.
    assert client.get("/payments/paypal/return?checkout=999", follow_redirects=False).headers["location"] == (
        "/client/billing"
    )


def test_btcpay_webhooks_through_the_edge(make_tenant, clock, btcpay):  # noqa: F811
    tenant = TenantInfo.of(make_tenant("btc"))
    other = TenantInfo.of(make_tenant("other"))
    enable_btcpay(tenant, btcpay, secret="s1")
    enable_btcpay(other, btcpay, secret="s2")
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice = open_invoice(session, user.id)
        started = checkout.start(
            session, tenant=tenant, user_id=user.id, invoice_id=invoice.id, gateway="btcpay"
        )
    btcpay.outbox = []
    btcpay.pay(started.reference, "full")
    ours = [d for d in btcpay.outbox if d.headers["BTCPay-Sig"] and d.url.endswith(f"/btcpay/{tenant.id}")]
    client = TestClient(api, base_url="http://localhost:3000")
    settled = ours[-1]
    # Aimed at another tenant: signed with our secret, refused there.
    refused = client.post(f"/webhooks/btcpay/{other.id}", content=settled.body, headers=settled.headers)
    assert refused.status_code == 400
    assert client.post(f"/webhooks/btcpay/{tenant.id}", content=b"{}", headers={}).status_code == 400
    assert client.post("/webhooks/nope/1", content=settled.body, headers=settled.headers).status_code == 400
    statuses = [
        client.post(f"/webhooks/btcpay/{tenant.id}", content=d.body, headers=d.headers).json()["status"]
        for d in ours + ours
    ]
    assert statuses[len(ours) :] == ["duplicate"] * len(ours)
    with tenant_db(tenant) as session:
        assert session.get(Invoice, invoice.id).status is InvoiceStatus.PAID
        assert len(session.exec(select(Payment)).all()) == 1
    with tenant_db(other) as session:
        assert session.exec(select(Payment)).all() == []
