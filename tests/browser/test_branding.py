import pytest
from playwright.sync_api import Page, expect

from ezscale.db import central_session
from ezscale.services.tenancy.tenants import reactivate_tenant, suspend_tenant
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser


def _header_border(page: Page) -> str:
    return page.eval_on_selector("#site-header", "e => getComputedStyle(e).borderBottomColor")


def test_house_and_reseller_hosts_show_their_own_name_and_colour(live_app, page: Page):
    open_site(page, live_app.url("localhost"))
    expect(page.locator("#brand-name")).to_have_text("EZSCALE")
    assert _header_border(page) == "rgb(37, 99, 235)"  # #2563EB
    expect(page.locator("[data-plan='vps-1']")).to_contain_text("$6.00/mo")

    open_site(page, live_app.url("acme.localhost"))
    expect(page.locator("#brand-name")).to_have_text("Acme Hosting")
    expect(page.locator("#hero-name")).to_have_text("Acme Hosting")
    assert _header_border(page) == "rgb(225, 29, 72)"  # #E11D48


def test_unknown_host_gets_the_unknown_site_page(live_app, page: Page):
    open_site(page, live_app.url("nobody.localhost"), status="unknown")
    expect(page.locator("#unknown-site")).to_contain_text("Unknown site")
    expect(page.locator("[data-plan]")).to_have_count(0)


def test_suspended_reseller_shows_temporarily_unavailable(live_app, page: Page):
    with live_app.platform(), central_session() as session:
        suspend_tenant(session, "acme")
    try:
        open_site(page, live_app.url("acme.localhost"), status="suspended")
        expect(page.locator("#suspended-site")).to_contain_text("temporarily unavailable")
        expect(page.locator("#brand-name")).to_have_text("Acme Hosting")
        expect(page.locator("[data-plan]")).to_have_count(0)
    finally:
        with live_app.platform(), central_session() as session:
            reactivate_tenant(session, "acme")


def test_theme_css_route_answers_per_host(live_app):
    import httpx

    house = httpx.get(live_app.url("127.0.0.1", "/tenant-theme.css"), headers={"Host": "localhost"})
    acme = httpx.get(
        live_app.url("127.0.0.1", "/tenant-theme.css"), headers={"Host": f"acme.localhost:{live_app.port}"}
    )
    assert house.status_code == 200 and "--brand-primary:#2563EB" in house.text
    assert acme.status_code == 200 and "--brand-primary:#E11D48" in acme.text
