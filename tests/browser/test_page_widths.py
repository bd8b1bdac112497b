"""Browser: every registered page of each area (storefront, client, reseller, admin), visited as
the person it is for, fits a 390 px phone and a 1366 px desktop without sideways scrolling.

With EZSCALE_SCREENSHOT_DIR set, each visit also saves a full-page screenshot
(`<dir>/<width>/<area>-<page>.png`): `make screenshots` is this walk.
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import select

from ezscale import clock, routes
from ezscale.db import central_session
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import User
from ezscale.pages import PAGES
from ezscale.services.accounts.sessions import create_admin_session, create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import open_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOUSE, RESELLER = "localhost", "acme.localhost"


@dataclass(frozen=True)
class Visit:
    """One page as one person sees it."""

    who: str  # visitor, customer, reseller, admin
    host: str
    path: str
    name: str


def _concrete(route: str, queries: dict[str, str]) -> str:
    """A visitable path of a registered route (dynamic parts filled with demo data)."""
    special = {
        routes.ORDER: routes.order_path("vps-1"),
        routes.CLIENT_WORKSPACES_LAUNCH: routes.workspaces_path("kasm-dev-pro"),
        routes.ADMIN_CUSTOMER: f"{routes.ADMIN_CUSTOMER}?{queries['admin']}",
        routes.RESELLER_CUSTOMER: f"{routes.RESELLER_CUSTOMER}?{queries['reseller']}",
        "404": "/no/such/page",
    }
    return special.get(route) or re.sub(r"\[[^\]]+\]", "1", route)


def _who(route: str) -> str:
    if route == routes.ADMIN_LOGIN:
        return "visitor"
    for prefix, who in (("/admin", "admin"), ("/reseller", "reseller"), ("/client", "customer")):
        if route.startswith(prefix):
            return who
    return "customer" if route.startswith(("/account", "/order")) else "visitor"


def _visits(queries: dict[str, str]) -> list[Visit]:
    visits = []
    for page in sorted(PAGES, key=lambda p: p.route):
        who = _who(page.route)
        name = re.sub(r"[^a-z0-9]+", "-", page.route.lower()).strip("-") or "home"
        visits.append(
            Visit(who, RESELLER if who == "reseller" else HOUSE, _concrete(page.route, queries), name)
        )
    return visits


def _tokens(live_app) -> tuple[dict[str, str], dict[str, str]]:
    """Session tokens of the demo's customer, Acme's owner and the admin; the queries of the
    admin's and the reseller's customer record pages for a demo customer."""
    with live_app.platform(), central_session() as central:
        house = TenantInfo.of(get_tenant(central, "ezscale"))
        acme = TenantInfo.of(get_tenant(central, "acme"))
        with tenant_session(house) as db:
            customer = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
            tokens = {"customer": create_user_session(db, user=customer, method="password")}
            queries = {"admin": f"tenant={house.id}&user={customer.id}"}
        with tenant_session(acme) as db:
            owner = db.exec(select(User).where(User.email == "owner@acme.test")).one()
            tokens["reseller"] = create_user_session(db, user=owner, method="password")
            rita = db.exec(select(User).where(User.email == "rita@acme.test")).one()
            queries["reseller"] = f"user={rita.id}"
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        tokens["admin"] = create_admin_session(central, admin=admin, method="password+totp")
    return tokens, queries


@pytest.fixture(scope="module")
def walk(live_app) -> Iterator[tuple[dict[str, str], list[Visit]]]:
    tokens, queries = _tokens(live_app)
    yield tokens, _visits(queries)


def _context(browser: Browser, live_app, width: int, who: str, token: str | None) -> BrowserContext:
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 500 else 900})
    if token:
        host = RESELLER if who == "reseller" else HOUSE
        context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url(host)}])
    return context


STEADY = """() => {
    const w = document.documentElement.scrollWidth, h = document.documentElement.scrollHeight;
    const same = window.__ezw === w && window.__ezh === h;
    window.__ezw = w; window.__ezh = h;
    return same;
}"""


# The first menu link of the area of each person's last page (the customer's is the storefront's
# order page).
_FIRST_LINK = {"visitor": "Plans", "customer": "Plans", "reseller": "Overview", "admin": "Overview"}


def _open_phone_menu(page: Page, who: str, shots: str) -> None:
    """On a phone the header's links are behind the menu button; it opens them."""
    expect(page.locator("#site-nav")).to_be_hidden()
    page.locator("#nav-toggle").click()
    menu = page.locator("#nav-menu")
    expect(menu.get_by_role("link", name=_FIRST_LINK[who])).to_be_visible()
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible(visible=who != "visitor")
    if shots:
        page.screenshot(path=str(Path(shots) / "390" / f"{who}-menu-open.png"), animations="disabled")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()


@pytest.mark.parametrize("width", [390, 1366])
def test_every_page_fits_without_sideways_scrolling(live_app, browser: Browser, walk, width: int):
    tokens, visits = walk
    shots = os.environ.get("EZSCALE_SCREENSHOT_DIR", "")
    too_wide: list[str] = []
    for who in ("visitor", "customer", "reseller", "admin"):
        context = _context(browser, live_app, width, who, tokens.get(who))
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            for visit in (v for v in visits if v.who == who):
                open_site(page, live_app.url(visit.host, visit.path))
                page.wait_for_load_state("networkidle")
                page.wait_for_function(STEADY, polling=300)  # the page's data has arrived and laid out
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    too_wide.append(f"{who} {visit.path}: {scroll} px")
                if shots:
                    target = Path(shots) / str(width) / f"{who}-{visit.name}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(target), full_page=True)
            if width < 500:
                _open_phone_menu(page, who, shots)
        finally:
            context.close()
    assert len(visits) >= 30 and {v.who for v in visits} == {"visitor", "customer", "reseller", "admin"}
    if too_wide:
        pytest.fail(f"pages wider than {width} px:\n" + "\n".join(too_wide))
