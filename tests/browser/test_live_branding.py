"""A reseller saves new branding; every open storefront tab of that tenant re-themes without a
reload, and another tenant's tab does not change."""

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.models.central import TenantBranding
from ezscale.models.tenant import User
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser


def _owner_token(live_app) -> str:
    with live_app.platform(), central_session() as central:
        acme = TenantInfo.of(get_tenant(central, "acme"))
        with tenant_session(acme) as db:
            owner = db.exec(select(User).where(User.email == "owner@acme.test")).one()
            return create_user_session(db, user=owner, method="password")


def _border(page) -> str:
    return page.eval_on_selector("#site-header", "e => getComputedStyle(e).borderBottomColor")


def test_saved_branding_reaches_every_open_tab_of_that_tenant_only(live_app, browser: Browser):
    visitor = browser.new_context().new_page()
    house_visitor = browser.new_context().new_page()
    owner_context = browser.new_context()
    owner_context.add_cookies(
        [{"name": "ezscale_session", "value": _owner_token(live_app), "url": live_app.url("acme.localhost")}]
    )
    editor = owner_context.new_page()
    try:
        open_site(visitor, live_app.url("acme.localhost"))
        open_site(house_visitor, live_app.url("localhost"))
        assert _border(visitor) == "rgb(225, 29, 72)"
        house_before = _border(house_visitor)

        open_site(editor, live_app.url("acme.localhost", "/reseller/branding"))
        name = editor.locator("#brand-company_name")
        expect(name).to_have_value("Acme Hosting")
        name.fill("Acme Cloud")
        expect(editor.locator("#preview-name")).to_have_text("Acme Cloud")  # live preview, unsaved
        expect(visitor.locator("#brand-name")).to_have_text("Acme Hosting")

        editor.locator("#brand-primary_color").fill("#0A7F3F")
        editor.locator("#brand-save").click()

        expect(visitor.locator("#brand-name")).to_have_text("Acme Cloud", timeout=2000)
        visitor.wait_for_function(
            "() => getComputedStyle(document.querySelector('#site-header')).borderBottomColor"
            " === 'rgb(10, 127, 63)'",
            timeout=2000,
        )
        assert _border(house_visitor) == house_before
        expect(house_visitor.locator("#brand-name")).to_have_text("EZSCALE")

        editor.locator("#brand-custom_css").fill("@import url(https://evil.example/x.css);")
        editor.locator("#brand-save").click()
        expect(editor.locator("#brand-error")).to_contain_text("@import is not allowed")
    finally:
        with live_app.platform(), central_session() as central:
            acme = get_tenant(central, "acme")
            row = central.exec(select(TenantBranding).where(TenantBranding.tenant_id == acme.id)).one()
            row.company_name, row.primary_color = "Acme Hosting", "#E11D48"
            central.add(row)
            central.commit()
        for page in (visitor, house_visitor, editor):
            page.context.close()
