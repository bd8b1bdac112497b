"""The reseller's business pages walked in Chromium at 1366 and 390 px: the first-run checklist,
customers (support staff see and note, cannot touch money), a plan added from EZSCALE's catalogue,
usage statistics, staff roles — and the admin's billing day. Screenshots go to the test's tmp dir."""

from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.tenant import Plan, Role, Service, ServiceStatus, User
from ezscale.services.billing.usage_charges import record_usage_charge
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from tests.browser.conftest import member_session, open_site, page_as

pytestmark = pytest.mark.browser

WIDTHS = (1366, 390)


def _acme(live_app) -> TenantInfo:
    with live_app.platform(), central_session() as central:
        return TenantInfo.of(get_tenant(central, "acme"))


def _customer_with_usage(live_app) -> int:
    acme = _acme(live_app)
    with live_app.platform(), tenant_session(acme) as db:
        user = db.exec(select(User).where(User.email == "walker@example.com")).first()
        if user is not None:
            return user.id
        user = User(
            email="walker@example.com", name="Walker Customer", password_hash="x", created_at=clock.now()
        )
        db.add(user)
        db.commit()
        plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        service = Service(
            user_id=user.id, plan_id=plan.id, status=ServiceStatus.ACTIVE, created_at=clock.now()
        )
        db.add(service)
        db.commit()
        now = clock.now()
        record_usage_charge(
            db,
            user_id=user.id,
            service_id=service.id,
            description="Developer Basic",
            quantity=Decimal(3),
            unit_rate=Decimal("0.15"),
            amount_minor=45,
            currency="USD",
            period_start=now,
            period_end=now,
            source_key="walk:usage",
        )
        return user.id


def _fits(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{name}: {width}px wide"


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_walks_checklist_plans_usage_and_staff(live_app, browser: Browser, tmp_path, width):
    page = page_as(
        browser, live_app, member_session(live_app, "owner@acme.test", Role.RESELLER_OWNER), width=width
    )
    _customer_with_usage(live_app)
    try:
        open_site(page, live_app.url("acme.localhost", "/reseller"))
        expect(page.locator("#getting-started")).to_contain_text("Connect your own domain")
        _fits(page, tmp_path, f"overview-{width}")

        open_site(page, live_app.url("acme.localhost", "/reseller/plans"))
        card = page.locator("#add-plan-card")
        card.get_by_role("combobox").click()
        page.get_by_role("option", name="VPS 1 —").click()
        page.locator("#new-plan-name").fill(f"Walk VPS {width}")
        page.locator("#new-plan-price").fill("1.00")
        page.locator("#add-plan").click()
        expect(page.locator("#reseller-error")).to_contain_text("below the wholesale price")
        price = "45.00" if width == WIDTHS[0] else "46.00"
        page.locator("#new-plan-price").fill(price)
        page.locator("#add-plan").click()
        expect(page.locator("#reseller-plans")).to_contain_text(f"${price}$4.20")  # its price, then wholesale
        _fits(page, tmp_path, f"plans-{width}")

        open_site(page, live_app.url("acme.localhost", "/reseller/usage"))
        expect(page.locator("#usage-customers")).to_contain_text("walker@example.com")
        expect(page.locator("#usage-types")).to_contain_text("Developer Basic")
        with page.expect_download() as download:
            page.locator("#usage-csv").click()
        assert download.value.suggested_filename.startswith("usage-")
        _fits(page, tmp_path, f"usage-{width}")

        open_site(page, live_app.url("acme.localhost", "/reseller/staff"))
        expect(page.locator("#role-permissions")).to_contain_text("billing")
        _fits(page, tmp_path, f"staff-{width}")
    finally:
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_support_staff_see_and_note_but_not_money(live_app, browser: Browser, tmp_path, width):
    customer = _customer_with_usage(live_app)
    page = page_as(
        browser, live_app, member_session(live_app, "support@acme.test", Role.RESELLER_STAFF), width=width
    )
    try:
        open_site(page, live_app.url("acme.localhost", "/reseller/customers"))
        page.get_by_role("link", name="walker@example.com").click()
        expect(page.locator("#customer-profile")).to_contain_text("Walker Customer")
        expect(page.locator("#add-credit")).to_have_count(0)
        expect(page.locator("#impersonate")).to_have_count(0)
        page.locator("#form-note").fill(f"Called back ({width})")
        page.locator("#add-note").click()
        expect(page.locator("#customer-notes")).to_contain_text(f"Called back ({width})")
        _fits(page, tmp_path, f"customer-support-{width}")

        open_site(page, live_app.url("acme.localhost", f"/reseller/customer?user={customer + 1000}"))
        expect(page.locator("#customer-error")).to_contain_text("No such customer.")
    finally:
        page.context.close()
