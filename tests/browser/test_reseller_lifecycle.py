"""Reseller lifecycle end to end: an admin creates a reseller; its owner brands the new storefront; a
visitor's open tab on that host re-themes without reloading."""

import base64
import re

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.models.central import PlatformAdmin
from ezscale.services.accounts.sessions import create_admin_session
from ezscale.services.core.mail import list_outbox
from ezscale.services.resellers.lifecycle import request_deletion
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser

# A real 1×1 PNG: uploads are opened as images (dimensions are checked).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
OWNER_PASSWORD = "orbit-owner-password"


def _context_with(browser: Browser, url: str, token: str):
    context = browser.new_context()
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": url}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def test_admin_creates_reseller_owner_signs_in_brands_it_visitor_sees_it_live(
    live_app, browser: Browser, tmp_path
):
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
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

        # The owner follows the invitation, chooses a password and signs in on the new host.
        with live_app.platform():
            [invite] = list_outbox(tenant=None, to="owner@orbit.test")
        [link] = [link for link in invite.links if "/reset-password?token=" in link]
        assert link.startswith(live_app.url("orbit.localhost", "/reset-password"))
        editor = browser.new_context().new_page()
        editor.set_default_timeout(20_000)
        open_site(editor, link)
        editor.fill("#password-input", OWNER_PASSWORD)
        editor.fill("#confirm-input", OWNER_PASSWORD)
        editor.locator("#reset-submit").click()
        expect(editor.locator("#form-message")).to_be_visible()
        open_site(editor, live_app.url("orbit.localhost", "/login"))
        editor.fill("#email-input", "owner@orbit.test")
        editor.fill("#password-input", OWNER_PASSWORD)
        editor.locator("#login-submit").click()
        editor.wait_for_url(re.compile(r"^(?!.*/login)"))

        visitor = browser.new_context().new_page()
        open_site(visitor, live_app.url("orbit.localhost"))
        expect(visitor.locator("#brand-name")).to_have_text("Orbit Hosting")

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
