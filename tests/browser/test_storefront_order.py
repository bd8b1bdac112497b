"""Browser: a customer orders a VPS from the storefront, sees the quote, pays it from credit,
lands on the paid invoice and finds the service in the client area; a visitor signs in first."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.tenant import CreditKind, Invoice, User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.billing import credits
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser

PASSWORD = "an order test password"


def _new_customer(live_app, email: str, *, credit_minor: int = 0) -> tuple[TenantInfo, int, str]:
    """A customer of the house storefront (with account credit); returns tenant, id and a session."""
    with live_app.platform():
        with central_session() as central:
            tenant = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(tenant) as db:
            user = User(
                email=email,
                password_hash=hash_password(PASSWORD),
                name="Olive Orderer",
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
            return tenant, user.id, create_user_session(db, user=user, method="password")


def test_customer_orders_a_vps_paid_from_credit(live_app, page: Page):
    tenant, user_id, token = _new_customer(live_app, "orderer@ezscale.test", credit_minor=50_000)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url("localhost")}])

    open_site(page, live_app.url("localhost", "/"))
    workspace = page.locator("#order-kasm-dev-basic")
    expect(workspace).to_have_text("Launch")
    expect(workspace).to_have_attribute("href", "/client/workspaces/launch/kasm-dev-basic")
    page.locator("#order-vps-1").click()

    expect(page).to_have_url(re.compile(r"/order/vps-1$"))
    expect(page.locator("#order-plan")).to_have_text("VPS 1")
    expect(page.locator("#order-recurring")).to_contain_text("$6.00/mo")
    expect(page.locator("#order-due-now")).to_have_text("$0.00")
    total = page.locator("#order-total").inner_text()
    assert re.fullmatch(r"\$\d+\.\d\d", total) and total != "$0.00"
    expect(page.locator("#order-credit")).to_have_text(total)

    page.locator("#place-order").click()
    expect(page).to_have_url(re.compile(r"/client/billing\?invoice=\d+$"))
    with live_app.platform(), tenant_session(tenant) as db:
        invoice = db.exec(select(Invoice).where(Invoice.user_id == user_id)).one()
    detail = page.locator("#invoice-detail")
    expect(detail).to_contain_text(invoice.number)
    expect(detail).to_contain_text(total)
    expect(page.locator("#detail-due")).to_have_text("Due now $0.00")
    expect(page.get_by_text(f"invoice {invoice.number} is paid")).to_be_visible()
    row = page.locator(f"[data-invoice='{invoice.number}']")
    expect(row.locator(".invoice-status")).to_have_text("paid")

    open_site(page, live_app.url("localhost", "/client"))
    service = page.locator("#client-services tbody tr")
    expect(service).to_have_count(1)
    expect(service).to_contain_text("VPS 1")
    # Paid: delivery is queued for the provisioning worker (the worker-backed journey to "active"
    # is test_provisioning_journeys.py); the service is no longer waiting for payment.
    expect(service.locator(".service-status")).to_have_text(re.compile(r"^(pending|provisioning|active)$"))


def test_visitor_signs_in_and_comes_back_to_the_order(live_app, page: Page):
    _new_customer(live_app, "visitor@ezscale.test")
    open_site(page, live_app.url("localhost", "/order/web-starter"))
    expect(page).to_have_url(re.compile(r"/login\?next=/order/web-starter$"))
    page.fill("#email-input", "visitor@ezscale.test")
    page.fill("#password-input", PASSWORD)
    page.click("#login-submit")

    expect(page).to_have_url(re.compile(r"/order/web-starter$"))
    expect(page.locator("#order-plan")).to_have_text("Web Hosting Starter")
    expect(page.locator("#order-credit")).to_have_text("$0.00")
    expect(page.locator("#order-due-now")).to_have_text(page.locator("#order-total").inner_text())
