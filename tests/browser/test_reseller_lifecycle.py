"""Reseller lifecycle end to end: an admin creates a reseller; its owner brands the new storefront; a
visitor's open tab on that host re-themes without reloading."""

import base64
import re

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.models.central import PlatformAdmin
from ezscale.services.accounts.sessions import create_admin_session
from ezscale.services.core.mail import list_outbox
from ezscale.services.resellers.lifecycle import request_deletion
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser

# A real 1×1 PNG: uploads are opened as images (dimensions are checked).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
OWNER_PASSWORD = "orbit-owner-password"


def _context_with(browser: Browser, url: str, token: str):
    context = browser.new_context()
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": url}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def test_admin_creates_reseller_owner_signs_in_brands_it_visitor_sees_it_live(
    live_app, browser: Browser, tmp_path
):
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin_token = create_admin_session(central, admin=admin, method="password+totp")
    admin_page = _context_with(browser, live_app.url("localhost"), admin_token)
    try:
        open_site(admin_page, live_app.url("localhost", "/admin/resellers"))
        for field, value in {
            "name": "Orbit Hosting",
            "slug": "orbit",
            "owner_email": "owner@orbit.test",
            "owner_name": "Olive Orbit",
        }.items():
            admin_page.locator(f"#reseller-{field}").fill(value)
        admin_page.locator("#create-reseller").click()
        expect(admin_page.locator("[data-tenant='orbit']")).to_contain_text("orbit.localhost", timeout=30_000)

        # The owner follows the invitation, chooses a password and signs in on the new host.
        with live_app.platform():
            [invite] = list_outbox(tenant=None, to="owner@orbit.test")
        [link] = [link for link in invite.links if "/reset-password?token=" in link]
        assert link.startswith(live_app.url("orbit.localhost", "/reset-password"))
        editor = browser.new_context().new_page()
        editor.set_default_timeout(20_000)
        open_site(editor, link)
        editor.fill("#password-input", OWNER_PASSWORD)
        editor.fill("#confirm-input", OWNER_PASSWORD)
        editor.locator("#reset-submit").click()
        expect(editor.locator("#form-message")).to_be_visible()
        open_site(editor, live_app.url("orbit.localhost", "/login"))
        editor.fill("#email-input", "owner@orbit.test")
        editor.fill("#password-input", OWNER_PASSWORD)
        editor.locator("#login-submit").click()
        editor.wait_for_url(re.compile(r"^(?!.*/login)"))

        visitor = browser.new_context().new_page()
        open_site(visitor, live_app.url("orbit.localhost"))
        expect(visitor.locator("#brand-name")).to_have_text("Orbit Hosting")

        open_site(editor, live_app.url("orbit.localhost", "/reseller/branding"))
        editor.locator("#brand-primary_color").fill("#7C3AED")
        logo = tmp_path / "logo.png"
        logo.write_bytes(PNG)
        editor.locator("#logo-upload input[type=file]").set_input_files(str(logo))
        expect(editor.locator("#brand-preview img")).to_be_visible()
        editor.locator("#brand-save").click()

        visitor.wait_for_function(
            "() => getComputedStyle(document.querySelector('#site-header')).borderBottomColor"
            " === 'rgb(124, 58, 237)'",
            timeout=2000,
        )
        logo_img = visitor.locator("#site-header img")
        expect(logo_img).to_have_attribute("src", re.compile(r"^/tenant-assets/logo-[0-9a-f]{16}\.png$"))
        src = live_app.url("127.0.0.1", logo_img.get_attribute("src"))
        served = httpx.get(src, headers={"Host": f"orbit.localhost:{live_app.port}"})
        assert served.status_code == 200 and served.content == PNG
        elsewhere = httpx.get(src, headers={"Host": f"acme.localhost:{live_app.port}"})
        assert elsewhere.status_code == 404  # another tenant's host never serves it
    finally:
        admin_page.context.close()
        with live_app.platform(), central_session() as central:
            request_deletion(central, slug="orbit")


def _sign_in_owner(browser: Browser, live_app, slug: str, email: str):
    """The owner follows the invitation mail, chooses a password and signs in on the new host."""
    with live_app.platform():
        [invite] = list_outbox(tenant=None, to=email)
    [link] = [link for link in invite.links if "/reset-password?token=" in link]
    page = browser.new_context().new_page()
    page.set_default_timeout(20_000)
    open_site(page, link)
    page.fill("#password-input", OWNER_PASSWORD)
    page.fill("#confirm-input", OWNER_PASSWORD)
    page.locator("#reset-submit").click()
    expect(page.locator("#form-message")).to_be_visible()
    open_site(page, live_app.url(f"{slug}.localhost", "/login"))
    page.fill("#email-input", email)
    page.fill("#password-input", OWNER_PASSWORD)
    page.locator("#login-submit").click()
    page.wait_for_url(re.compile(r"^(?!.*/login)"))
    return page


def test_reseller_launch_from_invitation_to_a_partly_refunded_customer(
    live_app, stripe_server, browser: Browser
):
    """Issue 17: admin creates a reseller → invitation → the owner connects its Stripe account,
    creates a plan → a customer orders on the reseller's host and pays by card (on the reseller's
    account) → the owner refunds part of it from the customer record."""
    from ezscale import clock
    from ezscale.models.billing import Payment
    from ezscale.models.payments import ConnectedAccount
    from ezscale.models.tenant import Plan, User
    from ezscale.services.accounts.passwords import hash_password
    from ezscale.services.accounts.sessions import create_user_session
    from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
    from ezscale.settings import get_settings
    from ezscale.state.auth import SESSION_COOKIE

    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin_token = create_admin_session(central, admin=admin, method="password+totp")
    admin_page = _context_with(browser, live_app.url("localhost"), admin_token)
    host = "nova.localhost"
    try:
        open_site(admin_page, live_app.url("localhost", "/admin/resellers"))
        for field, value in {
            "name": "Nova Hosting",
            "slug": "nova",
            "owner_email": "owner@nova.test",
            "owner_name": "Nia Nova",
        }.items():
            admin_page.locator(f"#reseller-{field}").fill(value)
        admin_page.locator("#create-reseller").click()
        expect(admin_page.locator("[data-tenant='nova']")).to_contain_text(host, timeout=30_000)
        owner = _sign_in_owner(browser, live_app, "nova", "owner@nova.test")

        # Not connected yet: the owner is told, on the overview.
        open_site(owner, live_app.url(host, "/reseller"))
        expect(owner.locator("#payments-notice")).to_be_visible()
        open_site(owner, live_app.url(host, "/reseller/gateways"))
        expect(owner.locator("#stripe-connect-state")).to_have_text("Not connected")
        owner.locator("#connect-stripe").click()
        owner.wait_for_url(re.compile(r"/connect/onboarding/acct_"))
        owner.locator("#agree").click()  # Stripe's onboarding (the simulator's page)
        owner.wait_for_url(re.compile(rf"^http://{re.escape(host)}:\d+/reseller/gateways/?\?connected=1$"))
        expect(owner.locator("#stripe-connect-state")).to_have_text("Connected")

        # A plan of its own, put on sale.
        open_site(owner, live_app.url(host, "/reseller/plans"))
        owner.locator("#add-plan-card").get_by_role("combobox").click()
        owner.get_by_role("option", name="VPS 1 —").click()
        owner.locator("#new-plan-name").fill("Nova VPS")
        owner.locator("#new-plan-price").fill("45.00")
        owner.locator("#add-plan").click()
        expect(owner.locator("#reseller-plans")).to_contain_text("$45.00$4.80")  # its price, then wholesale
        with live_app.platform(), central_session() as central:
            nova = TenantInfo.of(get_tenant(central, "nova"))
            account = central.exec(
                select(ConnectedAccount).where(ConnectedAccount.tenant_id == nova.id)
            ).one()
        with live_app.platform(), tenant_session(nova) as db:
            code = db.exec(select(Plan.code).where(Plan.name == "Nova VPS")).one()
        owner.locator(f"#plan-active-{code}").click()
        owner.locator(f"#plan-save-{code}").click()
        expect(owner.locator(f"#plan-active-{code}")).to_have_attribute("data-state", "checked")

        # A customer orders it on Nova's host and pays by card.
        with live_app.platform(), tenant_session(nova) as db:
            user = User(
                email="nell@example.com",
                password_hash=hash_password(OWNER_PASSWORD),
                name="Nell Buyer",
                email_verified_at=clock.now(),
                created_at=clock.now(),
            )
            db.add(user)
            db.commit()
            user_id, token = user.id, create_user_session(db, user=user, method="password")
        customer = browser.new_context().new_page()
        customer.set_default_timeout(20_000)
        customer.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url(host)}])
        open_site(customer, live_app.url(host, f"/order/{code}"))
        customer.locator("#place-order").click()
        customer.wait_for_url(re.compile(r"/client/billing\?invoice=\d+$"))
        customer.locator("#pay-with-stripe").click()
        card = customer.locator("#pay-card-element")
        for name, value in (
            ("number", "4242424242424242"),
            ("exp_month", "12"),
            ("exp_year", "30"),
            ("cvc", "123"),
        ):
            card.get_by_placeholder(name, exact=True).fill(value)
        card.get_by_placeholder("postal_code").fill("10115")
        customer.locator("#pay-card").click()
        expect(customer.locator("#billing-message")).to_have_text("Thank you: the invoice is paid.")
        with live_app.platform(), tenant_session(nova) as db:
            payment = db.exec(select(Payment).where(Payment.user_id == user_id)).one()
            assert payment.stripe_account_id == account.account_id
            intent, paid = payment.stripe_payment_intent_id, payment.amount_minor

        # The owner refunds part of it from the customer record: at Nova's own Stripe account.
        open_site(owner, live_app.url(host, f"/reseller/customer?user={user_id}"))
        owner.locator("#form-refund_amount").fill("5.00")
        owner.locator("#form-refund_reason").fill("goodwill")
        owner.locator("#customer-payments").get_by_role("button", name="Refund").click()
        expect(owner.locator("#customer-payments")).to_contain_text("$5.00")
        stripe = httpx.Client(base_url=stripe_server, auth=(get_settings().stripe_secret_key, ""))
        on_nova = {"Stripe-Account": account.account_id}
        refunds = stripe.get("/v1/refunds", params={"payment_intent": intent}, headers=on_nova).json()["data"]
        assert [r["amount"] for r in refunds] == [500] and paid > 500
        assert stripe.get(f"/v1/payment_intents/{intent}").status_code == 404  # not the platform's
    finally:
        admin_page.context.close()
        with live_app.platform(), central_session() as central:
            request_deletion(central, slug="nova")
