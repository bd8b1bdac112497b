"""Browser: the admin sign-in page shows no admin menu to a visitor; a signed-in admin's Overview
shows the platform's health; the tab title names the tenant and the page; unknown paths get the
branded 404."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.central import PlatformAdmin
from ezscale.services.accounts.sessions import create_admin_session
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser


def test_admin_sign_in_page_hides_the_admin_menu_from_visitors(live_app, page: Page):
    open_site(page, live_app.url("localhost", "/admin/login"))
    expect(page.locator("#login-submit")).to_be_visible()
    expect(page.locator("#site-header")).not_to_contain_text("Customers")
    expect(page.locator("#site-header")).not_to_contain_text("Audit")
    expect(page.locator("#site-nav")).to_have_count(0)


def test_admin_overview_shows_platform_health(live_app, browser: Browser):
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        token = create_admin_session(central, admin=admin, method="password+totp")
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": live_app.url("localhost")}])
    page = context.new_page()
    open_site(page, live_app.url("localhost", "/admin"))
    for figure in ("open-invoices", "failed-payments", "provisioning-failures", "alerts"):
        expect(page.locator(f"#health-{figure}")).to_be_visible()
    expect(page.locator("#health-open-invoices")).to_contain_text(re.compile(r"Open invoices\s*\d+"))
    expect(page.locator("#platform-health")).to_contain_text("MRR")
    expect(page.locator("#site-nav")).to_contain_text("Customers")  # signed in: the menu is there
    context.close()


def test_tab_title_names_the_tenant_and_unknown_paths_get_the_branded_404(live_app, page: Page):
    open_site(page, live_app.url("localhost", "/"))
    expect(page.locator("#brand-name")).to_have_text(re.compile(r"\S"))  # the site's brand has loaded
    company = page.locator("#brand-name").inner_text()
    expect(page).to_have_title(f"{company} · Storefront")
    open_site(page, live_app.url("localhost", "/no/such/page"))
    expect(page.locator("#not-found")).to_contain_text("Page not found")
    expect(page.locator("#not-found").get_by_role("link", name="Browse plans")).to_have_attribute("href", "/")
    expect(page).to_have_title(f"{company} · Page not found")
