"""Issue 12's account attacks replayed against the live app, as the penetration test made them:
forged Host/Origin headers on the event websocket, the sign-up race, 50 sign-ups hashing while
/ping is timed, lockouts behind a proxy, and the HttpOnly session cookie in a real browser."""

import asyncio
import re
import statistics
import time

import httpx
import pytest
import socketio
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.tenant import User
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.core.mail import list_outbox
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from tests.browser.conftest import open_site
from tests.browser.event_client import FORGOT, LOGIN, SIGNUP, EventClient
from tests.loops import run_on_own_loop

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
REFUSED = "Invalid email or password"
THROTTLED = "Too many failed sign-in attempts"
HANDED_OFF = "/auth/handoff?code="


def _acme(live_app) -> TenantInfo:
    with live_app.platform(), central_session() as central:
        return TenantInfo.of(get_tenant(central, "acme"))


def _customer(live_app, email: str) -> None:
    acme = _acme(live_app)
    with live_app.platform(), tenant_session(acme) as db:
        if db.exec(select(User).where(User.email == email)).first() is None:
            now = clock.now()
            db.add(
                User(
                    email=email,
                    name="Kim",
                    password_hash=hash_password(PASSWORD),
                    email_verified_at=now,
                    created_at=now,
                )
            )
            db.commit()


def _mails(live_app, to: str):
    with live_app.platform():
        return list_outbox(tenant=_acme(live_app), to=to)


async def _one_event(live_app, name: str, path: str, payload: dict, until: tuple[str, ...], **options) -> str:
    forwarded_for = options.pop("forwarded_for", "")
    client = EventClient(live_app.port, **options)
    await client.connect(forwarded_for=forwarded_for)
    try:
        return await client.send(name, path, payload, until=until)
    finally:
        await client.close()


def _sign_in(live_app, email: str, password: str, **options) -> str:
    options.setdefault("host", f"acme.localhost:{live_app.port}")
    form = {"form": {"email": email, "password": password}}
    return run_on_own_loop(
        _one_event(live_app, LOGIN, "/login", form, (REFUSED, THROTTLED, HANDED_OFF), **options)
    )


def test_a_reset_mail_asked_for_with_a_forged_host_still_links_to_the_tenant(live_app):
    email = "reset.victim@example.com"
    _customer(live_app, email)
    forged = f"acme.localhost:{live_app.port}@evil.example"
    form = {"form": {"email": email}}
    # The penetration test's request: Host and Origin both name the attacker after the `@`.
    for host, origin in (
        (forged, f"http://{forged}"),
        (f"acme.localhost:{live_app.port}", f"http://{forged}"),
    ):
        with pytest.raises(socketio.exceptions.ConnectionError):
            run_on_own_loop(
                _one_event(live_app, FORGOT, "/forgot-password", form, ("we sent",), host=host, origin=origin)
            )
    assert _mails(live_app, email) == []
    # Without an Origin header (not a browser) the link used to be `:///reset-password…`.
    run_on_own_loop(
        _one_event(
            live_app,
            FORGOT,
            "/forgot-password",
            form,
            ("we sent",),
            host=f"ACME.localhost:{live_app.port}",
            origin="",
        )
    )
    [mail] = _mails(live_app, email)
    assert mail.links[0].startswith(f"http://acme.localhost:{live_app.port}/reset-password?token="), (
        mail.links
    )


def test_the_owners_verification_voids_an_attackers_earlier_sign_up(live_app, page: Page):
    email = "race.victim@example.com"
    host = f"acme.localhost:{live_app.port}"

    def sign_up(password: str, forwarded_for: str) -> None:
        form = {"form": {"name": "Vic", "email": email, "password": password, "confirm": password}}
        run_on_own_loop(
            _one_event(
                live_app,
                SIGNUP,
                "/signup",
                form,
                ("Check your inbox",),
                host=host,
                forwarded_for=forwarded_for,
            )
        )

    sign_up("attacker password 123", "203.0.113.66")  # the attacker is first
    sign_up(PASSWORD, "192.0.2.10")  # then the owner
    owners_link = _mails(live_app, email)[0].links[0]
    open_site(page, owners_link)
    expect(page.locator("#form-message")).to_contain_text("Your email address is confirmed")
    assert REFUSED in _sign_in(live_app, email, "attacker password 123", forwarded_for="203.0.113.66")
    assert HANDED_OFF in _sign_in(live_app, email, PASSWORD, forwarded_for="192.0.2.10")


async def _sign_ups_while_pinging(live_app, count: int) -> tuple[list[float], float]:
    clients = [EventClient(live_app.port, host=f"acme.localhost:{live_app.port}") for _ in range(count)]
    await asyncio.gather(*(c.connect(forwarded_for=f"198.18.0.{n + 1}") for n, c in enumerate(clients)))
    pings: list[float] = []
    done = asyncio.Event()

    async def ping() -> None:
        async with httpx.AsyncClient(base_url=live_app.url("localhost")) as http:
            while not done.is_set():
                started = time.perf_counter()
                assert (await http.get("/ping")).status_code == 200
                pings.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)

    async def sign_up(n: int, client: EventClient) -> None:
        form = {"name": "Load", "email": f"load{n}.{client.token[:8]}@example.com", "password": PASSWORD}
        form["confirm"] = PASSWORD
        await client.send(SIGNUP, "/signup", {"form": form}, until=("Check your inbox",), timeout=180)

    pinger = asyncio.create_task(ping())
    started = time.perf_counter()
    await asyncio.gather(*(sign_up(n, c) for n, c in enumerate(clients)))
    elapsed = time.perf_counter() - started
    done.set()
    await pinger
    await asyncio.gather(*(c.close() for c in clients))
    return pings, elapsed


def test_ping_stays_fast_while_fifty_sign_ups_hash(live_app):
    """Before the fix, 50 concurrent sign-ups pushed /ping from 8 ms to 6 s for every tenant."""
    pings, elapsed = run_on_own_loop(_sign_ups_while_pinging(live_app, 50))
    median, p90 = statistics.median(pings), statistics.quantiles(pings, n=10)[-1]
    print(
        f"50 sign-ups in {elapsed:.1f} s; /ping during them: {len(pings)} pings, median "
        f"{median * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, max {max(pings) * 1000:.0f} ms"
    )
    assert len(pings) >= 5
    # The bound is 100 ms; the p90 leaves room for the other work of a busy 2-core box
    # (before the fix pings took seconds).
    assert median < 0.1 and p90 < 0.5, (median, p90)


def test_failures_behind_the_trusted_proxy_throttle_only_their_own_client(live_app):
    _customer(live_app, "neighbour@example.com")
    for n in range(20):
        assert REFUSED in _sign_in(
            live_app, f"nobody{n}@example.com", "wrong password 1", forwarded_for="198.51.100.77"
        )
    assert THROTTLED in _sign_in(live_app, "neighbour@example.com", PASSWORD, forwarded_for="198.51.100.77")
    # Everyone else behind the same proxy (the same TCP peer) signs in as usual.
    assert HANDED_OFF in _sign_in(live_app, "neighbour@example.com", PASSWORD, forwarded_for="198.51.100.78")
    assert HANDED_OFF in _sign_in(live_app, "neighbour@example.com", PASSWORD)


def test_forwarded_for_from_an_untrusted_peer_is_ignored(live_app):
    """127.0.0.2 is not a trusted proxy: rotating X-Forwarded-For does not reset its count."""
    for n in range(20):
        reply = _sign_in(
            live_app,
            f"rot{n}@example.com",
            "wrong password 1",
            local_ip="127.0.0.2",
            forwarded_for=f"10.9.9.{n}",
        )
        assert REFUSED in reply
    reply = _sign_in(
        live_app, "rot@example.com", "wrong password 1", local_ip="127.0.0.2", forwarded_for="10.9.9.200"
    )
    assert THROTTLED in reply


def _browser_sign_in(page: Page, url: str, email: str, password: str) -> None:
    open_site(page, url)
    page.fill("#email-input", email)
    page.fill("#password-input", password)
    page.click("#login-submit")


def test_a_known_device_still_signs_in_while_the_account_is_under_attack(live_app, browser: Browser):
    email = "known.device@example.com"
    _customer(live_app, email)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        _browser_sign_in(page, live_app.url("acme.localhost", "/login"), email, PASSWORD)
        page.wait_for_url(re.compile(r"/client$"))
        page.click("#logout")
        page.wait_for_url(re.compile(r"/login"))
        for n in range(5):  # the account limit
            assert REFUSED in _sign_in(
                live_app, email, f"guess {n} guess", forwarded_for=f"203.0.113.{n + 100}"
            )
        assert THROTTLED in _sign_in(
            live_app, email, PASSWORD, forwarded_for="203.0.113.200"
        )  # any new device
        _browser_sign_in(page, live_app.url("acme.localhost", "/login"), email, PASSWORD)
        page.wait_for_url(re.compile(r"/client$"))
        expect(page.locator("#signed-in-as")).to_have_text("Kim")
    finally:
        context.close()


def test_the_session_cookie_is_httponly_and_every_sign_out_still_works(live_app, browser: Browser):
    email = "cookie.owner@example.com"
    _customer(live_app, email)
    first, second = browser.new_context(), browser.new_context()
    try:
        pages = [first.new_page(), second.new_page()]
        for page in pages:
            page.set_default_timeout(20_000)
            _browser_sign_in(page, live_app.url("acme.localhost", "/login"), email, PASSWORD)
            page.wait_for_url(re.compile(r"/client$"))
        [cookie] = [c for c in first.cookies() if c["name"] == "ezscale_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert "ezscale_session" not in pages[0].evaluate("document.cookie")
        # A new tab of the same browser is signed in by the cookie alone.
        tab = first.new_page()
        open_site(tab, live_app.url("acme.localhost", "/account"))
        expect(tab.locator("#signed-in-as")).to_have_text("Kim")
        # Signed in, /login sends the visitor on instead of failing.
        open_site(tab, live_app.url("acme.localhost", "/login?next=/account"))
        tab.wait_for_url(re.compile(r"/account$"))
        expect(tab.locator("body")).not_to_contain_text("An error occurred")
        tab.click("#logout-all")
        tab.get_by_role("alertdialog").get_by_role("button", name="Sign out everywhere").click()
        tab.wait_for_url(re.compile(r"/login"))
        open_site(pages[1], live_app.url("acme.localhost", "/account"))
        pages[1].wait_for_url(re.compile(r"/login"))
        assert not [c for c in first.cookies() if c["name"] == "ezscale_session" and c["value"]]
    finally:
        first.close()
        second.close()
