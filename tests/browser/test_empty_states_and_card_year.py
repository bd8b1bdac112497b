"""Browser: a new customer's empty lists say so and point to the next step; the card form takes
a four-digit expiry year."""

import pytest
from playwright.sync_api import Page, expect

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.tenant import User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser


def _new_customer(live_app, page: Page, email: str) -> None:
    with live_app.platform():
        with central_session() as central:
            tenant = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(tenant) as db:
            user = User(
                email=email,
                password_hash=hash_password("an empty test password"),
                name="Nora New",
                email_verified_at=clock.now(),
                created_at=clock.now(),
            )
            db.add(user)
            db.commit()
            token = create_user_session(db, user=user, method="password")
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url("localhost")}])


def test_empty_lists_say_so_and_suggest_the_next_step(live_app, page: Page):
    _new_customer(live_app, page, "empty@ezscale.test")
    open_site(page, live_app.url("localhost", "/client/billing"))
    expect(page.locator("#no-invoices")).to_contain_text("No invoices yet")
    expect(page.locator("#no-invoices").get_by_role("link", name="Browse plans")).to_have_attribute(
        "href", "/"
    )
    expect(page.locator("#no-upcoming")).to_contain_text("Nothing is due")
    open_site(page, live_app.url("localhost", "/client/workspaces"))
    expect(page.locator("#no-sessions")).to_contain_text("No workspace sessions yet")
    expect(page.locator("#kasm-history")).to_have_count(0)


def test_card_form_takes_a_four_digit_year(live_app, stripe_server, page: Page):
    _new_customer(live_app, page, "fullyear@ezscale.test")
    open_site(page, live_app.url("localhost", "/client/billing"))
    page.locator("#add-card").click()
    card = page.locator("#card-element")
    for name, value in (("number", "4242424242424242"), ("exp_month", "12"), ("exp_year", "2031")):
        card.get_by_placeholder(name, exact=True).press_sequentially(value)
    card.get_by_placeholder("cvc", exact=True).fill("123")
    card.get_by_placeholder("postal_code").fill("10115")
    page.locator("#save-card").click()
    expect(page.locator("#billing-message")).to_have_text("Card saved.")
    expect(page.locator(".saved-card")).to_contain_text("12/2031")
