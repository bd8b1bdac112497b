"""Browser: the customer adds a card (Stripe.js shim of localstripe), pays an invoice, gets its PDF.

The live app talks to the localstripe of the browser conftest (`stripe_server`)."""

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.models.tenant import User
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.billing import invoices
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import fill_card, open_site

pytestmark = pytest.mark.browser


def _customer_with_open_invoice(live_app, page: Page) -> str:
    """Sign the demo customer in and give them an open invoice; returns its number."""
    with live_app.platform():
        with central_session() as central:
            tenant = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(tenant) as db:
            user = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
            token = create_user_session(db, user=user, method="password")
            invoice = invoices.create_draft(db, user_id=user.id, currency=tenant.currency)
            invoices.add_line(db, invoice, description="Extra IPv4 address", unit_minor=350)
            invoices.issue(db, invoice)
            db.commit()
            number = invoice.number
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url("localhost")}])
    return number


def test_add_card_pay_now_and_download_pdf(live_app, stripe_server, page: Page):
    number = _customer_with_open_invoice(live_app, page)
    open_site(page, live_app.url("localhost", "/client/billing"))
    row = page.locator(f"[data-invoice='{number}']")
    expect(row.locator(".invoice-status")).to_have_text("open")
    expect(page.locator("#credit-balance")).not_to_be_empty()

    page.locator("#add-card").click()
    fill_card(page)
    page.locator("#save-card").click()
    expect(page.locator(".saved-card")).to_contain_text("4242")
    expect(page.locator("#billing-message")).to_have_text("Card saved.")

    row.locator(".pay-now").click()
    expect(row.locator(".invoice-status")).to_have_text("paid")
    expect(row.locator(".pay-now")).to_have_count(0)

    with page.expect_download() as download:
        row.get_by_role("button", name="PDF").click()
    assert download.value.suggested_filename == f"{number}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
