"""Reseller lifecycle end to end: an admin creates a reseller; its owner brands the new storefront; a
visitor's open tab on that host re-themes without reloading."""

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import User
from ezscale.services.resellers import request_deletion
from ezscale.services.sessions import create_admin_session, create_user_session
from ezscale.services.tenancy import TenantInfo, get_tenant, tenant_session
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def _context_with(browser: Browser, url: str, token: str):
    context = browser.new_context()
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": url}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def test_admin_creates_reseller_owner_brands_it_visitor_sees_it_live(live_app, browser: Browser, tmp_path):
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()  # admins need a second factor
        central.add(admin)
        central.commit()
        admin_token = create_admin_session(central, admin=admin, method="password+totp")
    admin_page = _context_with(browser, live_app.url("localhost"), admin_token)
    try:
        open_site(admin_page, live_app.url("localhost", "/admin/resellers"))
        for field, value in {
            "name": "Orbit Hosting",
            "slug": "orbit",
            "owner_email": "owner@orbit.test",
            "owner_name": "Olive Orbit",
        }.items():
            admin_page.locator(f"#reseller-{field}").fill(value)
        admin_page.locator("#create-reseller").click()
        expect(admin_page.locator("[data-tenant='orbit']")).to_contain_text("orbit.localhost", timeout=30_000)

        with live_app.platform(), central_session() as central:
            orbit = TenantInfo.of(get_tenant(central, "orbit"))
            with tenant_session(orbit) as db:
                owner = db.exec(select(User).where(User.email == "owner@orbit.test")).one()
                owner_token = create_user_session(db, user=owner, method="password")

        visitor = browser.new_context().new_page()
        open_site(visitor, live_app.url("orbit.localhost"))
        expect(visitor.locator("#brand-name")).to_have_text("Orbit Hosting")

        editor = _context_with(browser, live_app.url("orbit.localhost"), owner_token)
        open_site(editor, live_app.url("orbit.localhost", "/reseller/branding"))
        editor.locator("#brand-primary_color").fill("#7C3AED")
        logo = tmp_path / "logo.png"
        logo.write_bytes(PNG)
        editor.locator("#logo-upload input[type=file]").set_input_files(str(logo))
        expect(editor.locator("#brand-preview img")).to_be_visible()
        editor.locator("#brand-save").click()

        visitor.wait_for_function(
            "() => getComputedStyle(document.querySelector('#site-header')).borderBottomColor"
            " === 'rgb(124, 58, 237)'",
            timeout=2000,
        )
        logo_img = visitor.locator("#site-header img")
        expect(logo_img).to_have_attribute("src", re.compile(r"^/tenant-assets/logo-[0-9a-f]{16}\.png$"))
        src = live_app.url("127.0.0.1", logo_img.get_attribute("src"))
        served = httpx.get(src, headers={"Host": f"orbit.localhost:{live_app.port}"})
        assert served.status_code == 200 and served.content == PNG
        elsewhere = httpx.get(src, headers={"Host": f"acme.localhost:{live_app.port}"})
        assert elsewhere.status_code == 404  # another tenant's host never serves it
    finally:
        admin_page.context.close()
        with live_app.platform(), central_session() as central:
            request_deletion(central, slug="orbit")
