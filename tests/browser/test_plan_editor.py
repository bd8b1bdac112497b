"""Plan catalogues as people edit them: an admin adds a plan to the house storefront, a reseller
owner reprices one of theirs (never below wholesale), and customers see the result."""

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.models.tenant import Plan, Role
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from tests.browser.conftest import admin_session, member_session, open_site, page_as

pytestmark = pytest.mark.browser


def _edit_plan(live_app, slug: str, code: str, change) -> None:
    with live_app.platform(), central_session() as central:
        tenant = TenantInfo.of(get_tenant(central, slug))
        with tenant_session(tenant) as db:
            plan = db.exec(select(Plan).where(Plan.code == code)).first()
            if plan is not None:
                change(db, plan)
                db.commit()


def test_admin_adds_a_plan_and_the_house_storefront_sells_it(live_app, browser: Browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.add_cookies(
        [{"name": "ezscale_session", "value": admin_session(live_app), "url": live_app.url()}]
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_site(page, live_app.url("localhost", "/admin/plans"))
        expect(page.locator("#plans-table [data-plan-row='vps-1']")).to_contain_text("6.00 USD")
        page.locator("#plan-form-name").fill("GPU Box 1")
        page.locator("#plan-form-code").fill("gpu-box-1")
        page.locator("#plan-form-description").fill("1 × L4 GPU · 32 GB RAM")
        page.locator("#plan-form-service_type").select_option("dedicated")
        page.locator("#plan-form-price").fill("49.999")
        page.locator("#plan-form-setup_fee").fill("10")
        page.locator("#plan-save").click()
        expect(page.locator("#plans-error")).to_contain_text("Use at most 2 decimal places")
        expect(page.locator("[data-plan-row='gpu-box-1']")).to_have_count(0)

        page.locator("#plan-form-price").fill("49.00")
        page.locator("#plan-save").click()
        row = page.locator("#plans-table [data-plan-row='gpu-box-1']")
        expect(row).to_contain_text("49.00 USD")
        expect(row).to_contain_text("dedicated")
        expect(page.locator("#plan-form-title")).to_have_text("New plan")

        open_site(page, live_app.url("localhost"))
        card = page.locator("[data-plan='gpu-box-1']").first
        expect(card).to_contain_text("GPU Box 1")
        expect(card).to_contain_text("$49.00/mo")

        open_site(page, live_app.url("localhost", "/admin/plans"))
        page.locator("#plan-edit-gpu-box-1").click()
        expect(page.locator("#plan-form-title")).to_have_text("Edit plan")
        expect(page.locator("#plan-form-code")).to_have_value("gpu-box-1")
        page.locator("#plan-form-price").fill("45.50")
        page.locator("#plan-save").click()
        expect(row).to_contain_text("45.50 USD")

        open_site(page, live_app.url("localhost"))
        expect(page.locator("[data-plan='gpu-box-1']").first).to_contain_text("$45.50/mo")

        open_site(page, live_app.url("localhost", "/admin/plans"))
        page.locator("#wholesale-reseller").select_option("acme")
        page.locator("#wholesale-vps-1").fill("99.00")
        page.locator("#wholesale-save-vps-1").click()
        expect(page.locator("#wholesale-error")).to_contain_text(
            "VPS 1: $6.00 is below the wholesale price $99.00."
        )
        expect(page.locator("#wholesale-vps-1")).to_have_value("99.00")  # kept to correct
    finally:
        context.close()
        _edit_plan(live_app, "ezscale", "gpu-box-1", lambda db, plan: db.delete(plan))


def test_reseller_owner_reprices_a_plan_but_not_below_wholesale(live_app, browser: Browser):
    page = page_as(browser, live_app, member_session(live_app, "owner@acme.test", Role.RESELLER_OWNER))
    try:
        open_site(page, live_app.url("acme.localhost", "/reseller/plans"))
        row = page.locator("[data-plan-row='web-starter']")
        expect(row).to_contain_text("$2.80")  # wholesale: $4.00 less the pro tier's 30 %
        page.locator("#plan-price-web-starter").fill("2.79")
        page.locator("#plan-save-web-starter").click()
        expect(page.locator("#reseller-error")).to_contain_text(
            "Web Hosting Starter: $2.79 is below the wholesale price $2.80."
        )
        expect(row).to_contain_text("$4.00")

        page.locator("#plan-name-web-starter").fill("Acme Web")
        page.locator("#plan-price-web-starter").fill("5.50")
        page.locator("#plan-save-web-starter").click()
        expect(row).to_contain_text("$5.50")
        expect(page.locator("#reseller-error")).to_have_count(0)

        open_site(page, live_app.url("acme.localhost"))
        card = page.locator("[data-plan='web-starter']").first
        expect(card).to_contain_text("Acme Web")
        expect(card).to_contain_text("$5.50/mo")
    finally:
        page.context.close()

        def restore(db, plan):
            plan.name, plan.price_minor = "Web Hosting Starter", 400
            db.add(plan)

        _edit_plan(live_app, "acme", "web-starter", restore)
