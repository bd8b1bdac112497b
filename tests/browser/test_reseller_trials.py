"""Browser: a reseller's owner gives a plan a free trial on its plans page (a bad value is refused
with a clear message); a customer on the reseller's host sees the trial in the storefront, saves a
card, orders the plan for $0.00 today, and finds the trial on the service page and the billing
page. No invoice and no charge are made."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.billing import Payment
from ezscale.models.tenant import Invoice, Plan, Role, Subscription, User
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import fill_card, open_site

pytestmark = pytest.mark.browser

HOST = "acme.localhost"
PLAN = "vps-2"


def _acme(live_app) -> TenantInfo:
    with live_app.platform(), central_session() as central:
        return TenantInfo.of(get_tenant(central, "acme"))


def _user(live_app, email: str, role: Role) -> tuple[int, str]:
    with live_app.platform(), tenant_session(_acme(live_app)) as db:
        user = User(
            email=email,
            name="Trial Tester",
            password_hash="x",
            role=role,
            created_at=clock.now(),
            email_verified_at=clock.now(),
        )
        db.add(user)
        db.commit()
        return user.id, create_user_session(db, user=user, method="password")


def _page(browser: Browser, live_app, token: str) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url(HOST)}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def test_owner_sets_trial_days_and_a_customer_orders_the_trial(
    live_app, stripe_server, acme_connected, browser: Browser
):
    _, owner_token = _user(live_app, "trial-owner@acme.test", Role.RESELLER_OWNER)
    owner = _page(browser, live_app, owner_token)
    try:
        open_site(owner, live_app.url(HOST, "/reseller/plans"))
        days = owner.locator(f"#plan-trial_days-{PLAN}")
        days.fill("120")
        owner.locator(f"#plan-save-{PLAN}").click()
        expect(owner.locator("#reseller-error")).to_contain_text("from 0 to 90")
        days.fill("14")
        owner.locator(f"#plan-save-{PLAN}").click()
        expect(owner.locator("#reseller-error")).to_have_count(0)
        expect(owner.get_by_text("saved.")).to_be_visible()
    finally:
        owner.context.close()
    acme = _acme(live_app)
    with live_app.platform(), tenant_session(acme) as db:
        plan = db.exec(select(Plan).where(Plan.code == PLAN)).one()
        assert plan.trial_days == 14
        price = f"${plan.price_minor / 100:.2f}/mo"

    user_id, token = _user(live_app, "trial-buyer@example.test", Role.CUSTOMER)
    page = _page(browser, live_app, token)
    try:
        open_site(page, live_app.url(HOST, "/"))
        expect(page.locator(f"#trial-{PLAN}")).to_have_text(f"14-day free trial, then {price}; card required")

        open_site(page, live_app.url(HOST, f"/order/{PLAN}"))
        expect(page.locator("#order-trial")).to_contain_text("14-day free trial")
        expect(page.locator("#order-due-now")).to_have_text("$0.00")
        expect(page.locator("#order-trial-needs-method")).to_contain_text("add one under Billing")
        page.locator("#place-order").click()  # no saved card yet: refused, nothing made
        expect(page.locator("#order-error")).to_contain_text(
            "free trial needs a saved card or PayPal account"
        )

        open_site(page, live_app.url(HOST, "/client/billing"))
        page.locator("#add-card").click()
        fill_card(page)
        page.locator("#save-card").click()
        expect(page.locator(".saved-card")).to_contain_text("4242")

        open_site(page, live_app.url(HOST, f"/order/{PLAN}"))
        expect(page.locator("#order-trial-note")).to_contain_text("Nothing is charged today")
        expect(page.locator("#order-trial-needs-method")).to_have_count(0)
        page.locator("#place-order").click()
        expect(page).to_have_url(re.compile(r"/client/services/\d+$"))
        expect(page.locator("#service-next-due")).to_contain_text("Free trial to")

        open_site(page, live_app.url(HOST, "/client/billing"))
        expect(page.locator("#upcoming")).to_contain_text("when the free trial ends")
    finally:
        page.context.close()
    with live_app.platform(), tenant_session(acme) as db:
        sub = db.exec(select(Subscription).where(Subscription.user_id == user_id)).one()
        assert sub.trial_ends_at is not None
        assert db.exec(select(Invoice).where(Invoice.user_id == user_id)).all() == []
        assert db.exec(select(Payment).where(Payment.user_id == user_id)).all() == []
