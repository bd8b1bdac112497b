"""Browser: the layout defects found at 1366 px stay fixed, checked on the laid-out page: the
workspace order selects stay inside their card; a domain's buttons do not overlap; the admin
monthly table and the audit table scroll inside the page; a very long customer name leaves the
other columns on screen; the admin and reseller menus are one line.

With EZSCALE_SCREENSHOT_DIR set, each checked page is saved under `<dir>/1366/layout-*.png`.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.sessions import create_admin_session, create_user_session
from ezscale.services.core.audit import operator, record_audit
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser

WIDTH = 1366
LONG_NAME = (
    "Bartholomew-Maximilian-Alexandrovich-Featherstonehaugh-Wolfeschlegelsteinhausenbergerdorff-Junior"
)
LONG_DOMAIN = "shop.a-rather-long-domain-name-for-the-layout-check.example.com"


def _page(browser: Browser, live_app, host: str, token: str) -> Page:
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url(host)}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _right(locator: Locator) -> float:
    box = _box(locator)
    return box["x"] + box["width"]


def _no_sideways_scroll(page: Page, name: str) -> None:
    shots = os.environ.get("EZSCALE_SCREENSHOT_DIR", "")
    if shots:
        target = Path(shots) / str(WIDTH) / f"layout-{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def _user_token(live_app, slug: str, email: str, name: str, role: Role = Role.CUSTOMER) -> str:
    with live_app.platform(), central_session() as central:
        tenant = TenantInfo.of(get_tenant(central, slug))
        with tenant_session(tenant) as db:
            user = db.exec(select(User).where(User.email == email)).first()
            if user is None:
                user = User(email=email, password_hash="x", name=name, role=role, created_at=clock.now())
                db.add(user)
                db.commit()
            return create_user_session(db, user=user, method="password")


def _admin_token(live_app) -> str:
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        return create_admin_session(central, admin=admin, method="password+totp")


def test_admin_tables_menu_and_long_names_stay_on_screen(live_app, browser: Browser):
    _user_token(live_app, "ezscale", "long.name@ezscale.test", LONG_NAME)
    with live_app.platform():
        record_audit(
            actor=operator("cli:layout-check"),
            action="layout.check",
            target=LONG_NAME,
            before={"note": "x" * 300},
            after={"note": LONG_NAME * 3},
        )
    page = _page(browser, live_app, "localhost", _admin_token(live_app))
    try:
        open_site(page, live_app.url("localhost", "/admin/customers"))
        page.locator("#customer-query").fill("Bartholomew")
        page.locator("#customer-search").click()
        row = page.locator("#customer-results tr", has_text="long.name@ezscale.test")
        expect(row).to_have_count(1)
        status = row.locator("td").last
        expect(status).to_be_visible()
        # The long name wraps: the status column is in view, not scrolled out of the table.
        table = page.locator(".rt-TableRoot", has=page.locator("tr", has_text="long.name@ezscale.test"))
        assert _right(status) <= _right(table)
        _no_sideways_scroll(page, "admin-customers-long-name")

        # The admin menu is one line: every link at the same height.
        tops = {round(_box(link)["y"]) for link in page.locator("#site-nav a").all()}
        assert len(tops) == 1

        open_site(page, live_app.url("localhost", "/admin/audit"))
        expect(page.locator("#audit-table")).to_contain_text("layout.check")
        _no_sideways_scroll(page, "admin-audit")

        open_site(page, live_app.url("localhost", "/admin/analytics"))
        expect(page.locator("#computed-at")).to_be_visible()
        monthly = page.get_by_role("heading", name="Monthly figures").locator("xpath=following-sibling::*[1]")
        assert _right(monthly) <= _right(page.locator("#definitions"))  # inside the content column
        _no_sideways_scroll(page, "admin-analytics")
    finally:
        page.context.close()


def test_domain_buttons_and_workspace_selects_fit(live_app, browser: Browser):
    owner = _user_token(live_app, "acme", "owner@acme.test", "Ada Acme", Role.RESELLER_OWNER)
    page = _page(browser, live_app, "acme.localhost", owner)
    try:
        open_site(page, live_app.url("acme.localhost", "/reseller/domains"))
        tops = {round(_box(link)["y"]) for link in page.locator("#site-nav a").all()}
        assert len(tops) == 1  # the reseller menu is one line too
        page.locator("#new-domain").fill(LONG_DOMAIN)
        page.locator("#add-domain").click()
        row = page.locator("tr", has_text=LONG_DOMAIN)
        buttons = [
            row.get_by_role("button", name=n, exact=True) for n in ("Check DNS", "Check HTTP", "Remove")
        ]
        boxes = [_box(b) for b in buttons]
        assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
        table = page.locator(".rt-TableRoot", has=row)
        assert max(_right(b) for b in buttons) <= _right(table)  # in view, not scrolled out of the table
        _no_sideways_scroll(page, "reseller-domains-unverified")
        buttons[2].click()
        page.get_by_role("alertdialog").get_by_role("button", name="Remove domain").click()
        expect(page.locator("tr", has_text=LONG_DOMAIN)).to_have_count(0)
    finally:
        page.context.close()

    customer = _user_token(live_app, "ezscale", "customer@ezscale.test", "Casey Customer")
    page = _page(browser, live_app, "localhost", customer)
    try:
        open_site(page, live_app.url("localhost", "/client/workspaces"))
        card = page.locator(".rt-Card", has=page.locator("#kasm-type"))
        for select in (page.locator("#kasm-type"), page.locator("#kasm-template")):
            expect(select).to_be_visible()
            assert _right(select) <= _right(card)
        _no_sideways_scroll(page, "client-workspaces")
    finally:
        page.context.close()
