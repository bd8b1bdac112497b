"""Browser: the payments report as a reseller's owner and as a platform admin (lines per gateway
and currency, totals, the CSV link, the empty state; support staff get no link to it), and a
storefront visitor picking a currency (prices change, sign-up preselects it) — at 390 px and
1366 px, without sideways scrolling."""

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from ezscale import clock, routes
from ezscale.db import central_session
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.sessions import create_admin_session, create_user_session
from ezscale.services.billing import invoices
from ezscale.services.fx import currencies, rates
from ezscale.services.fx.feed import Published
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, find_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.actors import admin
from tests.browser.conftest import member_session, open_site, page_as

pytestmark = pytest.mark.browser

WIDTHS = [390, 1366]
SLUG = "payrep"
HOST = f"{SLUG}.localhost"
# A day of rates, units per EUR (the storefront converts USD prices with them).
RATES = {"USD": "1.1650", "JPY": "171.23", "GBP": "0.8700"} | {f"X{n:02d}": "1" for n in range(20)}


def _seed(live_app) -> tuple[str, str, int]:
    """The payrep tenant (USD, EUR) with one PayPal payment this month, its owner's session and
    a platform admin's; returns (owner token, admin token, tenant id)."""
    with live_app.platform(), central_session() as central:
        found = find_tenant(central, slug=SLUG)
        tenant = TenantInfo.of(
            found or create_tenant(central, slug=SLUG, name="Pay Report", owner_email="o@pr.test")
        )
        rates.store(central, Published(rate_date=clock.now().date() - timedelta(days=1), rates=RATES))
        row = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        row.totp_enabled_at = row.totp_enabled_at or clock.now()
        central.add(row)
        central.commit()
        admin_token = create_admin_session(central, admin=row, method="password+totp")
        with tenant_session(tenant) as db:
            currencies.update_currencies(
                db, actor=admin(), tenant=tenant, enabled="USD EUR", rounding="minor"
            )
            owner = db.exec(select(User).where(User.email == "owner@pr.test")).first()
            if owner is None:
                owner = User(
                    email="owner@pr.test", password_hash="x", role=Role.RESELLER_OWNER, created_at=clock.now()
                )
                db.add(owner)
                db.commit()
                invoice = invoices.create_draft(db, user_id=owner.id, currency="USD")
                now = datetime.now(UTC)
                db.add(
                    Payment(
                        user_id=owner.id,
                        invoice_id=invoice.id,
                        status=PaymentStatus.SUCCEEDED,
                        amount_minor=1234,
                        currency="USD",
                        idempotency_key=f"browser-{invoice.id}",
                        created_at=now,
                        updated_at=now,
                        gateway="paypal",
                    )
                )
                db.commit()
            owner_token = create_user_session(db, user=owner, method="password")
    return owner_token, admin_token, tenant.id


def _page(browser: Browser, live_app, width: int, cookies: list[tuple[str, str]] = ()) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": token, "url": live_app.url(host)} for host, token in cookies]
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_payment_reports_and_the_currency_picker(live_app, browser: Browser, width):
    owner_token, admin_token, tenant_id = _seed(live_app)
    support_token = member_session(live_app, "support@pr.test", Role.RESELLER_STAFF, tenant=SLUG)
    report_link = f'#site-nav a[href="{routes.RESELLER_PAYMENT_REPORT}"]'

    page = page_as(browser, live_app, support_token, width=width, host=HOST)
    try:  # support staff may not see payments: no link to the report in the menu
        open_site(page, live_app.url(HOST, routes.RESELLER_CUSTOMERS))
        expect(page.locator(f'#site-nav a[href="{routes.RESELLER_CUSTOMERS}"]')).to_have_count(1)
        expect(page.locator(report_link)).to_have_count(0)
    finally:
        page.context.close()

    page = _page(browser, live_app, width, [(HOST, owner_token)])
    try:
        open_site(page, live_app.url(HOST, "/reseller/payment-report"))
        expect(page.locator(report_link)).to_have_count(1)
        lines = page.locator("#report-lines")
        expect(lines).to_contain_text("PayPal")
        expect(lines).to_contain_text("$12.34")
        expect(page.locator("#report-platform-note")).to_contain_text("rate recorded on its invoice")
        _fits(page, width)
        href = page.locator("#report-csv").get_attribute("href") or ""
        assert href.startswith("/reseller/payment-report.csv?")
        csv = httpx.get(  # *.localhost is the browser's; httpx names the host in the header
            live_app.url("127.0.0.1", href),
            headers={"host": f"{HOST}:{live_app.port}", "cookie": f"{SESSION_COOKIE}={owner_token}"},
        )
        assert csv.status_code == 200 and "paypal,USD,1,12.34" in csv.text
        # A period without payments: the empty state.
        page.locator("#report-start").fill("2020-01-01")
        page.locator("#report-end").fill("2020-12-31")
        page.locator("#report-show").click()
        expect(page.locator("#report-empty")).to_be_visible()
    finally:
        page.context.close()

    page = _page(browser, live_app, width, [("localhost", admin_token)])
    try:
        open_site(page, live_app.url("localhost", f"/admin/analytics?scope=tenant:{tenant_id}"))
        expect(page.locator("#payments-report-link")).to_have_attribute(
            "href", f"/admin/payments?tenant={tenant_id}"
        )
        open_site(page, live_app.url("localhost", f"/admin/payments?tenant={tenant_id}"))
        expect(page.locator("#report-lines")).to_contain_text(SLUG)
        expect(page.locator("#report-lines")).to_contain_text("$12.34")
        _fits(page, width)
    finally:
        page.context.close()

    page = _page(browser, live_app, width)
    try:
        open_site(page, live_app.url(HOST, "/"))
        price = page.locator("[data-plan='vps-1']")
        expect(price).to_contain_text("$6.00/mo")
        page.locator("#currency-picker").click()
        page.get_by_role("option", name="EUR").click()
        expect(price).to_contain_text(re.compile(r"€\d+\.\d\d/mo"))  # converted at the day's rate
        _fits(page, width)
        open_site(page, live_app.url(HOST, "/signup"))
        expect(page.locator("#signup-currency")).to_contain_text("EUR")
        open_site(page, live_app.url(HOST, "/"))
        expect(price).to_contain_text("€")  # kept for the next visit
    finally:
        page.context.close()
