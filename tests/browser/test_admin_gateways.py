"""Browser: the admin sets up BTCPay for the house site on a phone-wide screen: credentials
saved (the secret never shown back), its webhook address shown, switched on, connection tested,
switched off after confirming."""

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.central import PlatformAdmin, Tenant
from ezscale.services.accounts.sessions import create_admin_session
from ezscale.simulators import btcpay
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser


def test_admin_switches_btcpay_on_and_off(live_app, browser: Browser):
    server = btcpay.serve(btcpay.BTCPaySimulator())
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        token = create_admin_session(central, admin=admin, method="password+totp")
        house_id = central.exec(select(Tenant.id).where(Tenant.is_house)).one()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": live_app.url("localhost")}])
    page = context.new_page()
    try:
        open_site(page, live_app.url("localhost", "/admin/gateways"))
        # The webhook address to give BTCPay: the house site's own, from configuration.
        hook = live_app.url("localhost", f"/webhooks/btcpay/{house_id}")
        expect(page.locator("#btcpay-webhook-url")).to_have_text(hook)
        card = page.locator("#gateway-btcpay")
        page.locator("#btcpay-on").click()  # no credentials yet: refused, says what is missing
        expect(page.locator("#gateways-error")).to_contain_text("Enter the Bitcoin (BTCPay) API address")
        page.locator("#btcpay-api_base").fill(server.url)
        page.locator("#btcpay-api_key").fill(btcpay.DEMO_API_KEY)
        page.locator("#btcpay-store_id").fill(btcpay.DEMO_STORE)
        page.locator("#btcpay-webhook_secret").fill("shh")
        page.locator("#btcpay-save").click()
        expect(page.locator("#btcpay-webhook_secret")).to_have_attribute(
            "placeholder", "set: leave blank to keep"
        )
        page.locator("#btcpay-on").click()
        expect(card).to_contain_text("on")
        page.locator("#btcpay-test").click()
        expect(page.get_by_text("Bitcoin (BTCPay) answered: the credentials work.")).to_be_visible()
        # Mid-screen: at the bottom, the toasts sliding in (saved, switched on, answered) cover it.
        page.locator("#btcpay-off").evaluate("e => e.scrollIntoView({block: 'center'})")
        page.locator("#btcpay-off").click()
        page.locator(".confirm-dialog .confirm-ok").click()
        expect(page.locator("#btcpay-on")).to_be_visible()
        # The cards fit the phone (the admin menu above them is the layout's own, wider, row).
        for gateway in ("stripe", "paypal", "btcpay"):
            assert page.locator(f"#gateway-{gateway}").bounding_box()["width"] <= 390
    finally:
        context.close()
        server.stop()
