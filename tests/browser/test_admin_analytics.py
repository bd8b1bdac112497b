"""An admin opens the analytics page and sees the hand-made dataset's figures in the charts; a
customer gets "Not allowed" and no figures, on the page and on the CSV route."""

import re
from datetime import date
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import User
from ezscale.services.accounts.sessions import create_admin_session, create_user_session
from ezscale.services.analytics.snapshots import snapshot_days
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, get_tenant, tenant_session
from tests.browser.conftest import open_site
from tests.services.analytics.dataset import build_house, build_reseller

pytestmark = pytest.mark.browser


def _page_with(browser: Browser, url: str, token: str):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": url}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def _seed(live_app) -> tuple[int, str, str]:
    with live_app.platform(), central_session() as central:
        house = TenantInfo.of(
            create_tenant(central, slug="anhouse", name="Analytics House", owner_email="o@an.test")
        )
        resell = TenantInfo.of(
            create_tenant(central, slug="anresell", name="Analytics Resell", owner_email="o@ar.test")
        )
        build_house(house)
        build_reseller(resell)
        snapshot_days(central, start=date(2026, 10, 1), end=date(2026, 10, 31))
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        admin_token = create_admin_session(central, admin=admin, method="password+totp")
        demo_house = TenantInfo.of(get_tenant(central, "ezscale"))
    with live_app.platform(), tenant_session(demo_house) as db:
        customer = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
        customer_token = create_user_session(db, user=customer, method="password")
    return house.id, admin_token, customer_token


def test_admin_sees_the_datasets_figures_and_a_customer_does_not(live_app, browser: Browser):
    tenant_id, admin_token, customer_token = _seed(live_app)
    url = live_app.url("localhost", f"/admin/analytics?scope=tenant:{tenant_id}")

    admin = _page_with(browser, live_app.url("localhost"), admin_token)
    open_site(admin, url)
    # MRR 16759.666667 cents at the end of October; ARR 12 × that; net new 859.666667.
    expect(admin.locator("#kpi-mrr")).to_have_text("$167.60")
    expect(admin.locator("#kpi-arr")).to_have_text("$2,011.16")
    expect(admin.locator("#kpi-net-new")).to_have_text("$8.60")
    expect(admin.locator("#kpi-customers")).to_have_text("5")
    expect(admin.locator("#kpi-logo-churn")).to_have_text("33.33%")
    expect(admin.locator("#kpi-revenue-churn")).to_have_text("81.13%")
    expect(admin.locator("#kpi-outstanding")).to_have_text("$162.60")
    expect(admin.locator("#computed-at")).to_contain_text("days up to 2026-10-31")
    october = admin.locator("[data-month='Oct 2026']")
    expect(october).to_contain_text("$164.99")  # revenue: 120.00 + 15.00 + 29.99
    expect(october).to_contain_text("12.00")  # Kasm hours
    for chart in ("mrr", "movements", "customers", "churn", "revenue-monthly", "usage", "plans", "aging"):
        expect(admin.locator(f"#chart-{chart} svg[role='application']")).to_be_visible()
    # Movements: one month, four stacked bars (new, expansion, contraction, churned).
    expect(admin.locator("#chart-movements .recharts-bar-rectangle")).to_have_count(4)
    expect(admin.locator("#chart-aging .recharts-bar-rectangle")).to_have_count(4)
    # Popular plans: a name on every bar, and a chart with data shows no "no data" note.
    bars = admin.locator("#chart-plans .recharts-bar-rectangle")
    expect(bars.first).to_be_visible()
    names = admin.locator("#chart-plans .recharts-cartesian-axis-tick-value").filter(
        has_text=re.compile("[A-Za-z]")
    )
    expect(names).to_have_count(bars.count())  # the number ticks of the value axis have no letters
    expect(admin.locator("#chart-usage-empty")).to_have_count(0)
    expect(admin.locator("#definitions")).to_contain_text("annual plans price ÷ 12")
    with admin.expect_download() as download:
        admin.locator("#report-subscriptions").click()
    assert download.value.suggested_filename.startswith("subscriptions")
    assert "16759.666667" in Path(download.value.path()).read_text()
    admin.context.close()

    customer = _page_with(browser, live_app.url("localhost"), customer_token)
    open_site(customer, url)
    expect(customer.locator("#not-allowed")).to_be_visible()
    expect(customer.locator("#kpi-mrr")).to_have_count(0)
    customer.context.close()
    report = live_app.url("localhost", "/admin/reports/subscriptions.csv")
    assert httpx.get(report, cookies={"ezscale_session": customer_token}).status_code == 403
    csv = httpx.get(report + f"?scope=tenant:{tenant_id}", cookies={"ezscale_session": admin_token})
    assert csv.status_code == 200 and "16759.666667" in csv.text


def test_admin_saves_the_alert_policy(live_app, browser: Browser):
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        token = create_admin_session(central, admin=admin, method="password+totp")
    page = _page_with(browser, live_app.url("localhost"), token)
    open_site(page, live_app.url("localhost", "/admin/alerts"))
    expect(page.locator("#alert-threshold")).to_have_value("3")
    page.locator("#alert-threshold").fill("5")
    page.locator("#alert-billing_run_errors").click()
    expect(page.locator("#alert-billing_run_errors")).to_have_attribute("data-state", "unchecked")
    page.locator("#alerts-save").click()
    expect(page.get_by_text("Last changed")).to_contain_text("admin@ezscale.test")
    open_site(page, live_app.url("localhost", "/admin/alerts"))
    expect(page.locator("#alert-threshold")).to_have_value("5")
    expect(page.locator("#alert-billing_run_errors")).to_have_attribute("data-state", "unchecked")
    page.context.close()
