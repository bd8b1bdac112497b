"""The reseller area as its owner uses it, and what a customer of the same tenant gets there."""

from datetime import date

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.models.central import TenantDomain
from ezscale.models.tenant import Role
from ezscale.services.resellers.wholesale import bill_tenant
from ezscale.services.tenancy.tenants import get_tenant
from tests.browser.conftest import fill_card, member_session, open_site, page_as
from tests.factories import LONG_AGO, backdate

pytestmark = pytest.mark.browser


def test_owner_manages_domains_and_prices(live_app, browser: Browser):
    page = page_as(browser, live_app, member_session(live_app, "owner@acme.test", Role.RESELLER_OWNER))
    try:
        open_site(page, live_app.url("acme.localhost", "/reseller"))
        expect(page.locator("#reseller-cards")).to_contain_text("Customers")

        open_site(page, live_app.url("acme.localhost", "/reseller/domains"))
        page.locator("#new-domain").fill("shop.acme-example.com")
        page.locator("#add-domain").click()
        expect(page.get_by_text("_ezscale-challenge.shop.acme-example.com")).to_be_visible()
        page.get_by_role("button", name="Check HTTP").click()
        expect(page.get_by_text("Could not connect to http://shop.acme-example.com")).to_be_visible()
        # Removing asks first, saying what stops; Cancel keeps the domain, Remove domain removes it.
        page.get_by_role("button", name="Remove", exact=True).click()
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_contain_text("stops answering on this domain")
        dialog.get_by_role("button", name="Cancel").click()
        expect(page.get_by_text("_ezscale-challenge.shop.acme-example.com")).to_be_visible()
        page.get_by_role("button", name="Remove", exact=True).click()
        dialog.get_by_role("button", name="Remove domain").click()
        expect(page.get_by_text("_ezscale-challenge.shop.acme-example.com")).to_have_count(0)

        open_site(page, live_app.url("acme.localhost", "/reseller/plans"))
        row = page.locator("[data-plan-row='vps-2']")
        page.locator("#plan-price-vps-2").fill("10.00")
        page.locator("#plan-save-vps-2").click()
        expect(page.locator("#reseller-error")).to_contain_text("below the wholesale price $10.50")
        page.locator("#plan-price-vps-2").fill("17.00")
        page.locator("#plan-save-vps-2").click()
        expect(row).to_contain_text("$17.00")
    finally:
        page.context.close()
        with live_app.platform(), central_session() as central:
            for row in central.exec(
                select(TenantDomain).where(TenantDomain.domain == "shop.acme-example.com")
            ):
                central.delete(row)
            central.commit()


def test_a_customer_of_the_same_tenant_is_not_allowed_in(live_app, browser: Browser):
    page = page_as(browser, live_app, member_session(live_app, "shopper@acme.test", Role.CUSTOMER))
    try:
        for path in ("/reseller", "/reseller/domains", "/reseller/plans", "/reseller/branding"):
            open_site(page, live_app.url("acme.localhost", path))
            expect(page.locator("#not-allowed")).to_be_visible()
            expect(page.get_by_text("Wholesale")).to_have_count(0)
    finally:
        page.context.close()


def test_owner_adds_a_card_pays_the_wholesale_invoice_and_gets_its_pdf(live_app, stripe_server, browser):
    with live_app.platform(), central_session() as central:
        acme = get_tenant(central, "acme")
        backdate(central, acme, LONG_AGO)
        invoice, _ = bill_tenant(tenant_id=acme.id, start=date(2026, 1, 1), end=date(2026, 2, 1))
    page = page_as(browser, live_app, member_session(live_app, "owner@acme.test", Role.RESELLER_OWNER))
    try:
        open_site(page, live_app.url("acme.localhost", "/reseller"))
        row = page.locator(f"[data-invoice='{invoice.number}']")
        expect(row).to_contain_text("$99.00")
        row.get_by_role("button", name="Pay").click()
        expect(page.locator("#reseller-error")).to_contain_text("Add a card first")

        page.get_by_role("button", name="Add or replace card").click()
        fill_card(page)
        page.locator("#save-card").click()
        expect(page.locator("#reseller-card")).to_have_text("Visa •••• 4242")

        row.get_by_role("button", name="Pay").click()
        expect(row).to_contain_text("paid")
        with page.expect_download() as download:
            row.get_by_role("button", name="PDF").click()
        assert download.value.suggested_filename == f"{invoice.number}.pdf"
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(4) == b"%PDF"
    finally:
        page.context.close()
