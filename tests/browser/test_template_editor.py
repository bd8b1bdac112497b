"""Workspace templates as people edit them: an admin deprecates one and adds another, and the
customer's order form follows; a reseller owner sees the same editor for their own tenant."""

import uuid

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.models.kasm import KasmTemplate, TemplateStatus
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from tests.browser.conftest import admin_session, member_session, open_site, page_as

pytestmark = pytest.mark.browser

KALI_IMAGE = str(uuid.uuid5(uuid.NAMESPACE_URL, "kasmweb/kali-rolling-desktop:1.16.0"))


def _customer_token(live_app) -> str:
    with live_app.platform(), central_session() as central:
        house = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(house) as db:
            user = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
            return create_user_session(db, user=user, method="password")


def _restore_house_templates(live_app) -> None:
    with live_app.platform(), central_session() as central:
        house = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(house) as db:
            for template in db.exec(select(KasmTemplate)):
                if template.name == "Kali Linux":
                    db.delete(template)
                elif template.name == "Secure Browser":
                    template.status = TemplateStatus.ACTIVE
                    db.add(template)
            db.commit()


def test_admin_deprecates_a_template_and_adds_one_and_the_order_form_follows(live_app, browser: Browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.add_cookies(
        [{"name": "ezscale_session", "value": admin_session(live_app), "url": live_app.url()}]
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_site(page, live_app.url("localhost", "/admin/workspaces"))
        browser_row = page.locator("#templates-table [data-template-row='Secure Browser']")
        expect(browser_row).to_contain_text("active")
        browser_row.get_by_role("button", name="Edit").click()
        expect(page.locator("#template-form-title")).to_have_text("Edit template")
        expect(page.locator("#template-form-name")).to_have_value("Secure Browser")
        page.locator("#template-form-status").select_option("deprecated")
        page.locator("#template-save").click()
        expect(browser_row).to_contain_text("deprecated")
        expect(page.locator("#template-form-title")).to_have_text("New template")

        page.locator("#template-form-name").fill("Kali Linux")
        page.locator("#template-form-image_id").fill("kasmweb/kali-rolling-desktop")
        page.locator("#template-form-cores").fill("4")
        page.locator("#template-form-memory_gb").fill("8")
        page.locator("#template-form-apps").fill("Metasploit, Burp Suite")
        page.locator("#template-save").click()
        expect(page.locator("#templates-error")).to_contain_text("image's UUID")
        expect(page.locator("[data-template-row='Kali Linux']")).to_have_count(0)

        page.locator("#template-form-image_id").fill(KALI_IMAGE)
        page.locator("#template-save").click()
        kali_row = page.locator("#templates-table [data-template-row='Kali Linux']")
        expect(kali_row).to_contain_text("4 vCPU · 8 GB")
        expect(kali_row).to_contain_text(uuid.UUID(KALI_IMAGE).hex)
        expect(page.locator("#templates-error")).to_have_count(0)

        context.clear_cookies()
        context.add_cookies(
            [{"name": "ezscale_session", "value": _customer_token(live_app), "url": live_app.url()}]
        )
        open_site(page, live_app.url("localhost", "/client/workspaces"))
        options = page.locator("#kasm-template option")
        expect(options.filter(has_text="Kali Linux (Metasploit, Burp Suite)")).to_have_count(1)
        expect(options.filter(has_text="Ubuntu Desktop")).to_have_count(1)
        expect(options.filter(has_text="Secure Browser")).to_have_count(0)
    finally:
        context.close()
        _restore_house_templates(live_app)


def test_reseller_owner_edits_their_own_templates(live_app, browser: Browser):
    page = page_as(browser, live_app, member_session(live_app, "owner@acme.test", Role.RESELLER_OWNER))
    try:
        open_site(page, live_app.url("acme.localhost", "/reseller/workspaces"))
        row = page.locator("#templates-table [data-template-row='Ubuntu Desktop']")
        expect(row).to_contain_text("2 vCPU · 4 GB")
        row.get_by_role("button", name="Edit").click()
        page.locator("#template-form-memory_gb").fill("1000")
        page.locator("#template-save").click()
        expect(page.locator("#reseller-error")).to_contain_text("memory in GB must be a whole number")
        page.locator("#template-form-memory_gb").fill("6")
        page.locator("#template-save").click()
        expect(row).to_contain_text("2 vCPU · 6 GB")
    finally:
        page.context.close()
        with live_app.platform(), central_session() as central:
            acme = TenantInfo.of(get_tenant(central, "acme"))
            with tenant_session(acme) as db:
                for template in db.exec(select(KasmTemplate).where(KasmTemplate.name == "Ubuntu Desktop")):
                    template.memory_mb = 4096
                    db.add(template)
                db.commit()
