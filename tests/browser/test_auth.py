"""Accounts end to end: sign up → verify from the outbox → sign in → TOTP → sign out → password +
TOTP; passkeys with Chromium's virtual authenticator; customers refused by admin and reseller
pages; no signing in with one tenant's account on another tenant's host; foreign Origins refused."""

import re
import socket
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.app import app
from ezscale.db import central_session
from ezscale.models.tenant import User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from tests.browser.conftest import open_site

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def _sign_in(page: Page, url: str, email: str, password: str) -> None:
    open_site(page, url)
    page.fill("#email-input", email)
    page.fill("#password-input", password)
    page.click("#login-submit")


def test_sign_up_form_names_every_missing_field_and_refuses_a_blank_name(live_app, page: Page):
    open_site(page, live_app.url("localhost", "/signup"))
    page.click("#signup-submit")
    expect(page.locator("#form-error")).to_have_text(
        "Please enter your name, your email, a password and the password again."
    )
    page.fill("#name-input", "   ")
    page.fill("#email-input", "blank.name@example.com")
    page.fill("#password-input", PASSWORD)
    page.fill("#confirm-input", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#form-error")).to_have_text("Your name cannot be only spaces.")
    page.fill("#name-input", "N" * 121)
    page.click("#signup-submit")
    expect(page.locator("#form-error")).to_have_text("Your name is too long: at most 120 characters.")
    expect(page.locator("#form-message")).to_have_count(0)


def test_sign_up_verify_sign_in_enrol_totp_and_sign_in_with_it(live_app, page: Page):
    email = "new.customer@example.com"
    open_site(page, live_app.url("localhost", "/signup"))
    page.fill("#name-input", "New Customer")
    page.fill("#email-input", email)
    page.fill("#password-input", PASSWORD)
    page.fill("#confirm-input", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#form-message")).to_contain_text("Check your inbox")

    _sign_in(page, live_app.url("localhost", "/login"), email, PASSWORD)
    expect(page.locator("#form-error")).to_contain_text("confirm your email")

    open_site(page, live_app.url("localhost", "/dev/outbox"))
    mail = page.locator(f".outbox-mail[data-to='{email}']").first
    expect(mail).to_contain_text("Confirm your email for EZSCALE")
    mail.locator(".outbox-link").first.click()
    expect(page.locator("#form-message")).to_contain_text("Your email address is confirmed")

    _sign_in(page, live_app.url("localhost", "/login"), email, PASSWORD)
    page.wait_for_url(re.compile(r"/client$"))
    expect(page.locator("#signed-in-as")).to_have_text("New Customer")

    open_site(page, live_app.url("localhost", "/account/security"))
    page.click("#totp-start")
    secret = page.locator("#totp-secret").inner_text()
    totp = pyotp.TOTP(secret)
    page.fill("#code-input", totp.now())
    page.click("#totp-confirm")
    expect(page.locator(".recovery-code")).to_have_count(10)
    expect(page.locator("#totp-on")).to_be_visible()

    page.click("#logout")
    page.wait_for_url(re.compile(r"/login"))
    _sign_in(page, live_app.url("localhost", "/login"), email, PASSWORD)
    # The enrolment code cannot be replayed; the next time step's code (within the window) works.
    page.fill("#code-input", totp.at(datetime.now(UTC) + timedelta(seconds=30)))
    page.click("#code-submit")
    page.wait_for_url(re.compile(r"/client$"))
    expect(page.locator("#signed-in-as")).to_have_text("New Customer")

    open_site(page, live_app.url("localhost", "/account"))
    expect(page.locator("#login-history")).to_contain_text("password+totp")
    expect(page.locator("#profile-name")).to_have_value("New Customer")  # the profile prefills its form


def _acme_customer(live_app, email: str) -> None:
    with live_app.platform(), central_session() as central:
        acme = TenantInfo.of(get_tenant(central, "acme"))
        with tenant_session(acme) as db:
            if db.exec(select(User).where(User.email == email)).first() is None:
                now = clock.now()
                db.add(
                    User(
                        email=email,
                        name="Pat Passkey",
                        password_hash=hash_password(PASSWORD),
                        email_verified_at=now,
                        created_at=now,
                    )
                )
                db.commit()


def test_register_a_passkey_and_sign_in_with_it(live_app, browser: Browser):
    _acme_customer(live_app, "pat@example.com")
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    try:
        _sign_in(page, live_app.url("acme.localhost", "/login"), "pat@example.com", PASSWORD)
        page.wait_for_url(re.compile(r"/client$"))
        open_site(page, live_app.url("acme.localhost", "/account/security"))
        page.fill("#passkey-name", "Test laptop")
        page.click("#passkey-add")
        expect(page.locator("#form-message")).to_have_text("Passkey added.")
        expect(page.locator(".passkey-row")).to_have_count(1)
        expect(page.locator(".passkey-row input[name='name']")).to_have_value("Test laptop")

        page.click("#logout")
        page.wait_for_url(re.compile(r"/login"))
        open_site(page, live_app.url("acme.localhost", "/login"))
        page.click("#passkey-login")
        page.wait_for_url(re.compile(r"/client$"))
        expect(page.locator("#signed-in-as")).to_have_text("Pat Passkey")
    finally:
        context.close()


def _area_routes() -> list[str]:
    paths = ["/" + route for route in app._unevaluated_pages if route.startswith(("admin", "reseller"))]
    return sorted(p.replace("[", "").replace("]", "") for p in paths if p != "/admin/login")


def test_a_customer_is_refused_by_every_admin_and_reseller_page(live_app, browser: Browser):
    with live_app.platform(), central_session() as central:
        house = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(house) as db:
            customer = db.exec(select(User).where(User.email == "customer@ezscale.test")).one()
            token = create_user_session(db, user=customer, method="password")
    context = browser.new_context()
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": live_app.url("localhost")}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    refused = []
    try:
        open_site(page, live_app.url("localhost", "/client"))
        expect(page.locator("#signed-in-as")).to_have_text("Casey Customer")  # the session is valid
        for path in _area_routes():
            page.goto(live_app.url("localhost", path))
            page.wait_for_function("() => !document.querySelector(\"[data-site-status='loading']\")")
            page.wait_for_function(
                "() => /Not allowed/.test(document.body.innerText) || location.pathname.endsWith('/login')"
            )
            refused.append(path)
    finally:
        context.close()
    assert "/admin" in refused and "/reseller" in refused and "/admin/audit" in refused


def test_an_account_of_one_tenant_cannot_sign_in_on_another(live_app, page: Page):
    _sign_in(page, live_app.url("acme.localhost", "/login"), "customer@ezscale.test", "customer-demo-pass")
    expect(page.locator("#form-error")).to_have_text("Invalid email or password.")
    _sign_in(page, live_app.url("localhost", "/login"), "customer@ezscale.test", "customer-demo-pass")
    page.wait_for_url(re.compile(r"/client$"))


def _handshake_status(live_app, origin: str) -> int:
    """Open Reflex's event websocket by hand and return the HTTP status of the handshake."""
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: localhost:{live_app.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live_app.port), timeout=10) as conn:
        conn.sendall(request.encode())
        return int(conn.recv(1024).split(b" ", 2)[1])


def test_event_connections_from_a_foreign_origin_are_refused(live_app):
    assert _handshake_status(live_app, f"http://localhost:{live_app.port}") == 101
    assert _handshake_status(live_app, "http://evil.example") == 403


def test_platform_admin_signs_in_with_password_and_totp(live_app, page: Page):
    from ezscale.services.accounts.admins import DEMO_ADMIN_TOTP_SECRET

    open_site(page, live_app.url("localhost", "/admin"))
    page.wait_for_url(re.compile(r"/admin/login"))
    _sign_in(page, live_app.url("localhost", "/admin/login"), "admin@ezscale.test", "admin-demo-password")
    page.fill("#code-input", pyotp.TOTP(DEMO_ADMIN_TOTP_SECRET).now())
    page.click("#code-submit")
    page.wait_for_url(re.compile(r"/admin$"))
    expect(page.locator("#signed-in-as")).to_have_text("Platform Admin")
    open_site(page, live_app.url("localhost", "/admin/logins"))
    expect(page.locator("#logins-table")).to_contain_text("password+totp")
    open_site(page, live_app.url("acme.localhost", "/admin/login"))
    expect(page.locator("#form-error")).to_contain_text("not available on this site")
