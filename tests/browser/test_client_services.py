"""Browser: the client dashboard and a service page at 1366 and 390 px — each service row shows
price and next due date and opens its page; empty states say what to do next; nothing scrolls
sideways on a phone. Screenshots go to $EZSCALE_SCREENSHOTS (default: the test's tmp dir)."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.tenant import CreditKind, Plan, ServiceType, User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.billing import credits, orders
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import open_site, wait_loaded

pytestmark = pytest.mark.browser

WIDTHS = (1366, 390)
# A monthly plan no panel delivers (the demo maps all of its own to simulated panels).
UNMAPPED = "backup-space"


def add_unmapped_plan(db) -> None:
    """The house plan `UNMAPPED`, once: ordering it needs no panel."""
    if db.exec(select(Plan.id).where(Plan.code == UNMAPPED)).first() is None:
        db.add(
            Plan(code=UNMAPPED, name="Backup Space", service_type=ServiceType.WEB_HOSTING, price_minor=400)
        )
        db.commit()


def customer(live_app, email: str, *, credit_minor: int = 0, order: str = "") -> tuple[TenantInfo, int, str]:
    """A house customer (with credit, with an order placed); returns tenant, id and a session."""
    with live_app.platform():
        with central_session() as central:
            tenant = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(tenant) as db:
            user = User(
                email=email,
                password_hash=hash_password("a services test password"),
                name="Sam Servers",
                email_verified_at=clock.now(),
                created_at=clock.now(),
            )
            db.add(user)
            db.commit()
            if credit_minor:
                credits.add_entry(
                    db,
                    user_id=user.id,
                    kind=CreditKind.TOP_UP,
                    amount_minor=credit_minor,
                    currency=tenant.currency,
                    memo="Welcome credit",
                )
                db.commit()
            if order:
                add_unmapped_plan(db)
                orders.place_order(db, tenant=tenant, user_id=user.id, plan_code=order)
            return tenant, user.id, create_user_session(db, user=user, method="password")


def sign_in(live_app, page: Page, token: str) -> None:
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url("localhost")}])


# The page's own content, tables scrolling inside their box allowed (the shared header's phone
# menu is issue 14's item 4).
TOO_WIDE = """() => {
    const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
        if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
    return [...document.querySelectorAll('#site-root *')]
        .filter(e => !e.closest('#site-header') && e.getBoundingClientRect().right > window.innerWidth + 1)
        .filter(e => !scrolls(e))
        .map(e => (e.id || e.tagName) + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8); }"""


def fits(page: Page) -> None:
    """Nothing in the page's content is wider than the window."""
    wide = page.evaluate(TOO_WIDE)
    assert wide == [], f"{page.url} is too wide at {page.viewport_size['width']} px: {wide}"


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EZSCALE_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_empty_dashboard_says_what_to_do_next(live_app, page: Page, tmp_path):
    _, _, token = customer(live_app, "empty-dashboard@ezscale.test")
    sign_in(live_app, page, token)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        open_site(page, live_app.url("localhost", "/client"))
        empty = page.locator("#client-services-empty")
        expect(empty).to_contain_text("You have no servers or hosting yet.")
        expect(empty.get_by_role("link", name="Choose a plan")).to_have_attribute("href", "/")
        expect(page.locator("#client-workspaces-empty")).to_contain_text("Launch one")
        expect(page.locator("#no-open-invoices")).to_be_visible()
        expect(page.locator("#client-balance")).to_have_text("$0.00")
        fits(page)
        page.screenshot(path=shots(tmp_path) / f"client-empty-{width}.png", full_page=True)


def test_dashboard_row_opens_the_service_page_at_both_widths(live_app, page: Page, tmp_path):
    _, _, token = customer(live_app, "dashboard@ezscale.test", credit_minor=50_000, order=UNMAPPED)
    sign_in(live_app, page, token)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        open_site(page, live_app.url("localhost", "/client"))
        row = page.locator("#client-services tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator(".service-price")).to_have_text("$4.00/mo")
        expect(row.locator(".service-due")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d$"))
        expect(page.locator("#client-activity")).to_contain_text("Subscribed to Backup Space")
        fits(page)
        page.screenshot(path=shots(tmp_path) / f"client-dashboard-{width}.png", full_page=True)

        row.locator(".service-link").click()
        expect(page).to_have_url(re.compile(r"/client/services/\d+$"))
        wait_loaded(page)  # the tab held this very service's page from the first width
        expect(page.locator("#service-label")).to_have_text("Backup Space")
        expect(page.locator("#service-price")).to_have_text("$4.00/mo")
        expect(page.locator("#service-invoices tbody tr")).to_have_count(1)
        expect(page.locator("#cancel-rule")).to_contain_text("is not credited back")
        fits(page)
        page.screenshot(path=shots(tmp_path) / f"client-service-{width}.png", full_page=True)


def test_another_customers_service_is_not_found(live_app, page: Page):
    _, _, owner_token = customer(live_app, "owner-svc@ezscale.test", credit_minor=50_000, order=UNMAPPED)
    _, _, token = customer(live_app, "snoop@ezscale.test")
    sign_in(live_app, page, owner_token)
    open_site(page, live_app.url("localhost", "/client"))
    href = page.locator("#client-services .service-link").get_attribute("href")
    page.context.clear_cookies()
    sign_in(live_app, page, token)
    open_site(page, live_app.url("localhost", href))
    expect(page.locator("#service-error")).to_have_text("No such service.")
    expect(page.locator("#service-details")).to_have_count(0)
