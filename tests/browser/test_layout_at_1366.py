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

from ezscale.models.tenant import Role
from ezscale.services.core.audit import operator, record_audit
from tests.browser.conftest import admin_session, member_session, open_site, page_as

pytestmark = pytest.mark.browser

WIDTH = 1366
LONG_NAME = (
    "Bartholomew-Maximilian-Alexandrovich-Featherstonehaugh-Wolfeschlegelsteinhausenbergerdorff-Junior"
)
LONG_DOMAIN = "shop.a-rather-long-domain-name-for-the-layout-check.example.com"


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


def test_admin_tables_menu_and_long_names_stay_on_screen(live_app, browser: Browser):
    member_session(live_app, "long.name@ezscale.test", tenant="ezscale", name=LONG_NAME)
    with live_app.platform():
        record_audit(
            actor=operator("cli:layout-check"),
            action="layout.check",
            target=LONG_NAME,
            before={"note": "x" * 300},
            after={"note": LONG_NAME * 3},
        )
    page = page_as(browser, live_app, admin_session(live_app), width=WIDTH, host="localhost")
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
    owner = member_session(live_app, "owner@acme.test", Role.RESELLER_OWNER, tenant="acme", name="Ada Acme")
    page = page_as(browser, live_app, owner, width=WIDTH, host="acme.localhost")
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

    customer = member_session(live_app, "customer@ezscale.test", tenant="ezscale", name="Casey Customer")
    page = page_as(browser, live_app, customer, width=WIDTH, host="localhost")
    try:
        open_site(page, live_app.url("localhost", "/client/workspaces"))
        card = page.locator(".rt-Card", has=page.locator("#kasm-type"))
        for select in (page.locator("#kasm-type"), page.locator("#kasm-template")):
            expect(select).to_be_visible()
            assert _right(select) <= _right(card)
        _no_sideways_scroll(page, "client-workspaces")
    finally:
        page.context.close()
