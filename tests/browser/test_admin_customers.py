"""An admin finds a reseller's customer, works on the record, and logs in as them (bannered and
audited); a customer cannot open the admin customer pages."""

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.auth import AuditEntry
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import User
from ezscale.services.accounts.sessions import create_admin_session, create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, get_tenant, tenant_session
from tests.browser.conftest import open_site
from tests.services.analytics.dataset import build_reseller

pytestmark = pytest.mark.browser


def _page_with(browser: Browser, url: str, token: str):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": url}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def test_admin_customer_record_actions_and_impersonation(live_app, browser: Browser):
    with live_app.platform(), central_session() as central:
        shop = TenantInfo.of(
            create_tenant(central, slug="custshop", name="Cust Shop", owner_email="o@cs.test")
        )
        build_reseller(shop)
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        admin_token = create_admin_session(central, admin=admin, method="password+totp")
        house = TenantInfo.of(get_tenant(central, "ezscale"))
    with live_app.platform(), tenant_session(house) as db:
        customer = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
        customer_token = create_user_session(db, user=customer, method="password")

    page = _page_with(browser, live_app.url("localhost"), admin_token)
    open_site(page, live_app.url("localhost", "/admin/customers"))
    page.locator("#customer-query").fill("hank@")
    page.locator("#customer-search").click()
    row = page.locator("#customer-results tbody tr", has_text="custshop")
    expect(row).to_have_count(1)
    row.get_by_role("link", name="hank@example.test").click()
    expect(page.locator("#customer-profile")).to_contain_text("Cust Shop (custshop)")
    expect(page.locator("#customer-services")).to_contain_text("VPS 1")
    expect(page.locator("#customer-invoices")).to_contain_text("INV-1")

    page.locator("#form-note").fill("Asked about an upgrade")
    page.locator("#add-note").click()
    expect(page.locator("#customer-timeline")).to_contain_text(
        "Note by admin@ezscale.test: Asked about an upgrade"
    )
    page.locator("#form-credit_amount").fill("5.00")
    page.locator("#form-credit_memo").fill("Goodwill")
    page.locator("#add-credit").click()
    expect(page.locator("#customer-profile")).to_contain_text("$5.00")
    expect(page.locator("#customer-credits")).to_contain_text("Goodwill")

    page.locator("#form-charge_amount").fill("12.50")
    page.locator("#form-charge_text").fill("Extra IP address")
    page.locator("#charge").click()
    invoices = page.locator("#customer-invoices")
    expect(invoices).to_contain_text("$12.50")
    page.locator("#form-cn_amount").fill("1.00")
    page.locator("#form-cn_reason").fill("Downtime")
    invoices.locator("tr", has_text="INV-1").get_by_role("button", name="Credit note").click()
    expect(invoices.locator("tr", has_text="credit_note")).to_contain_text("$1.00")

    services = page.locator("#customer-services")
    services.get_by_role("button", name="Suspend", exact=True).click()
    expect(services).to_contain_text("suspended")
    # Only what the state allows is offered (a second suspend is refused by the service, too).
    expect(services.get_by_role("button", name="Suspend", exact=True)).to_have_count(0)
    services.get_by_role("button", name="Unsuspend").click()
    expect(services).to_contain_text("active")
    expect(services.get_by_role("button", name="Unsuspend")).to_have_count(0)
    services.get_by_role("button", name="Terminate").click()  # asks first; Cancel keeps it
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Cancel").click()
    expect(services).to_contain_text("active")
    timeline = page.locator("#customer-timeline")
    expect(timeline).to_contain_text("issued: $12.50")  # money, not minor units
    expect(timeline).not_to_contain_text("1250 USD")

    page.locator("#impersonate").click()
    page.wait_for_url(f"**custshop.localhost:{live_app.port}/client**")
    expect(page.locator("#impersonation-banner")).to_contain_text("signed in as hank@example.test.")
    page.locator("#end-impersonation").click()
    page.wait_for_url(f"http://custshop.localhost:{live_app.port}/")
    expect(page.locator("#impersonation-banner")).to_have_count(0)
    page.context.close()
    with live_app.platform(), central_session() as central:
        actions = {
            e.action
            for e in central.exec(
                select(AuditEntry).where(AuditEntry.target.startswith(f"customer:{shop.id}:"))
            )
        }
    assert {"customer.credit", "customer.impersonate"} <= actions

    customer_page = _page_with(browser, live_app.url("localhost"), customer_token)
    open_site(customer_page, live_app.url("localhost", "/admin/customers"))
    expect(customer_page.locator("#not-allowed")).to_be_visible()
    expect(customer_page.locator("#customer-results")).to_have_count(0)
    customer_page.context.close()
