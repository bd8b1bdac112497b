"""Browser: a customer pays an open invoice once with PayPal (approve at the simulator, back to
the invoice), with BTCPay (pay at the simulator's checkout) and with a one-off card.

The PayPal and BTCPay simulators run in this process; the house site is switched to them."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.demo.gateways import connect_house
from ezscale.models.tenant import User
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.billing import invoices, payments
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.simulators import btcpay, paypal
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def gateways(live_app) -> Iterator[None]:
    paypal_server = paypal.serve(paypal.PayPalSimulator(auto_deliver=True))
    btcpay_server = btcpay.serve(btcpay.BTCPaySimulator(auto_deliver=True))
    with live_app.platform():
        connect_house(paypal_base=paypal_server.url, btcpay_base=btcpay_server.url, app_base=live_app.url())
    yield
    paypal_server.stop()
    btcpay_server.stop()


def _open_invoice(live_app, page: Page, amount: int) -> tuple[int, str]:
    with live_app.platform():
        with central_session() as central:
            tenant = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(tenant) as db:
            user = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
            token = create_user_session(db, user=user, method="password")
            invoice = invoices.create_draft(db, user_id=user.id, currency=tenant.currency)
            invoices.add_line(db, invoice, description="Extra IPv4 address", unit_minor=amount)
            invoices.issue(db, invoice)
            db.commit()
            found = invoice.id, invoice.number
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url("localhost")}])
    return found


def _choose(live_app, page: Page, invoice_id: int, gateway: str) -> None:
    open_site(page, live_app.url("localhost", f"/client/billing?invoice={invoice_id}"))
    expect(page.locator("#invoice-detail")).to_be_visible()
    keep = page.locator("#save-wallet")
    if keep.get_attribute("data-state") == "checked":
        keep.click()  # pay once: the shared demo customer keeps no PayPal wallet for other tests
        expect(keep).to_have_attribute("data-state", "unchecked")
    page.locator(f"#pay-with-{gateway}").click()


def test_pay_with_paypal(live_app, gateways, stripe_server, page: Page):
    invoice_id, number = _open_invoice(live_app, page, 410_000)
    _choose(live_app, page, invoice_id, "paypal")
    page.locator("#approve").click()
    page.wait_for_url(lambda url: url.endswith(f"/client/billing/?invoice={invoice_id}"))
    expect(page.locator(f"[data-invoice='{number}'] .invoice-status")).to_have_text("paid")


def test_pay_with_btcpay(live_app, gateways, stripe_server, page: Page):
    invoice_id, number = _open_invoice(live_app, page, 420_000)
    _choose(live_app, page, invoice_id, "btcpay")
    page.locator("#full").click()
    page.wait_for_url(lambda url: url.endswith(f"/client/billing/?invoice={invoice_id}"))
    expect(page.locator(f"[data-invoice='{number}'] .invoice-status")).to_have_text("paid")


def test_pay_with_a_one_off_card(live_app, gateways, stripe_server, page: Page):
    invoice_id, number = _open_invoice(live_app, page, 430_000)
    _choose(live_app, page, invoice_id, "stripe")
    card = page.locator("#pay-card-element")
    for name, value in (
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
    ):
        card.get_by_placeholder(name, exact=True).fill(value)
    card.get_by_placeholder("postal_code").fill("10115")
    page.locator("#pay-card").click()
    expect(page.locator("#billing-message")).to_have_text("Thank you: the invoice is paid.")
    expect(page.locator(f"[data-invoice='{number}'] .invoice-status")).to_have_text("paid")


def test_renewals_by_crypto_are_chosen_on_the_billing_page(live_app, gateways, stripe_server, page: Page):
    _open_invoice(live_app, page, 440_000)  # signs the demo customer in
    open_site(page, live_app.url("localhost", "/client/billing"))
    page.locator("#renew-crypto").click()
    expect(page.locator("#renew-by-crypto")).to_be_visible()
    expect(page.locator("#renew-crypto")).to_have_count(0)
    with live_app.platform():
        with central_session() as central:
            tenant = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(tenant) as db:
            user = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
            default = payments.default_card(db, user_id=user.id)
            assert default is not None and default.gateway == "btcpay"
            payments.remove_card(db, user_id=user.id, card_id=default.id, tenant=tenant)  # for other tests
