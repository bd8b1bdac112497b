"""Browser tests: the real app (`reflex run --env prod`) on a free port, driven by Debian Chromium.

The app runs as a subprocess on its own platform (data dir, databases) seeded with the demo data.
`live_app.platform()` points this test process at the same databases for direct checks.
Set EZSCALE_TEST_WEB_DIR to build the frontend somewhere other than `.web` (parallel sessions).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session, dispose_engines
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import Role, User
from ezscale.node import node_environment
from ezscale.services.accounts.sessions import create_admin_session, create_user_session
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.settings import get_settings, normalise_url
from ezscale.simulators import stripe as stripe_simulator
from tests.conftest import _BASE_DATABASE_URL, _RUN_ID, _drop_databases

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The live app talks to one localstripe for the whole session; its address must be in the
# environment before the app starts (tests that charge cards use the `stripe_server` fixture).
_STRIPE_PORT = stripe_simulator.free_port()
os.environ["STRIPE_API_BASE"] = f"http://127.0.0.1:{_STRIPE_PORT}"
# A step waits up to 15 s for the page to show its outcome (playwright's 5 s is too short when the
# app, its worker and the other tests share two busy cores); a passing step waits no longer.
expect.set_options(timeout=15_000)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveApp:
    port: int
    env: dict[str, str]
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    saved_env: dict[str, str | None] = field(default_factory=dict)

    def url(self, host: str = "localhost", path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    @contextmanager
    def platform(self) -> Iterator[None]:
        """Point this process's settings and engines at the live app's databases."""
        keys = ("EZSCALE_DATA_DIR", "EZSCALE_TENANT_DB_PREFIX", "DATABASE_URL", "EZSCALE_PORT")
        saved = {k: os.environ.get(k) for k in keys}
        for key in keys:
            if key in self.env:
                os.environ[key] = self.env[key]
            else:
                os.environ.pop(key, None)
        get_settings.cache_clear()
        dispose_engines()
        try:
            yield
        finally:
            dispose_engines()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            get_settings.cache_clear()


def _wait_until_up(app: LiveApp, deadline: float) -> None:
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"app exited early; see {app.log_path}")
        try:
            if httpx.get(app.url(path="/ping"), timeout=2).status_code == 200 and (
                httpx.get(app.url(), timeout=5).status_code == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"app did not start in time; see {app.log_path}")


def _start_panel_simulators(app: LiveApp) -> list[subprocess.Popen]:
    """The demo's provisioning panels' simulators on free ports, the demo panels pointed at them
    (as `ezscale run` starts them on fixed ones)."""
    from sqlmodel import select

    from ezscale.db import central_session
    from ezscale.demo.panels import DEMO_PANELS
    from ezscale.models.provisioning import ProvisioningPanel
    from ezscale.services.core.audit import operator
    from ezscale.services.provisioning import panels

    processes = []
    with app.platform(), central_session() as central:
        for demo in DEMO_PANELS:
            port = _free_port()
            command = [sys.executable, "-m", demo.simulator, "--port", str(port)]
            processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL))
            panel = central.exec(select(ProvisioningPanel).where(ProvisioningPanel.label == demo.label)).one()
            base_url = f"http://127.0.0.1:{port}"
            panels.update_panel(central, panel_id=panel.id, base_url=base_url, actor=operator("tests"))
    for port_url in [f"http://127.0.0.1:{p.args[-1]}" for p in processes]:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(port_url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    return processes


@pytest.fixture(scope="session")
def live_app(tmp_path_factory) -> Iterator[LiveApp]:
    root = tmp_path_factory.mktemp("live")
    port = _free_port()
    prefix = f"ezt_{_RUN_ID}_live_"
    env = node_environment()
    env.update(
        EZSCALE_DATA_DIR=str(root / "data"),
        EZSCALE_TENANT_DB_PREFIX=prefix,
        EZSCALE_PORT=str(port),
        REFLEX_WEB_WORKDIR=os.environ.get("EZSCALE_TEST_WEB_DIR", str(PROJECT_ROOT / ".web")),
        PYTHONUNBUFFERED="1",
        EZSCALE_DEMO="1",  # as `ezscale run`: /dev/outbox on, cookies without Secure
        # Loopback plays the reverse proxy (tests send X-Forwarded-For); 127.0.0.2 is a stranger.
        EZSCALE_TRUSTED_PROXIES="127.0.0.1",
    )
    env.pop("DATABASE_URL", None)
    if _BASE_DATABASE_URL:
        from sqlalchemy.engine import make_url

        url = make_url(normalise_url(_BASE_DATABASE_URL)).set(database=f"{prefix}_central")
        env["DATABASE_URL"] = url.render_as_string(hide_password=False)
    app = LiveApp(port=port, env=env, log_path=root / "app.log")
    subprocess.run(
        [sys.executable, "-m", "ezscale", "demo"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    with app.log_path.open("wb") as log:
        app.process = subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--env", "prod"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    simulators = _start_panel_simulators(app)
    try:
        _wait_until_up(app, time.monotonic() + 900)
        yield app
    finally:
        for simulator in simulators:
            simulator.terminate()
        if app.process.poll() is None:
            os.killpg(app.process.pid, signal.SIGTERM)
            try:
                app.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(app.process.pid, signal.SIGKILL)
        if _BASE_DATABASE_URL:
            _drop_databases(prefix)


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[str]:
    process = stripe_simulator.start(_STRIPE_PORT)
    yield os.environ["STRIPE_API_BASE"]
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def acme_connected(live_app: LiveApp, stripe_server: str) -> str:
    """The demo reseller Acme's own Stripe account, connected and onboarded in the simulator as
    `ezscale run` does (its customers cannot pay by card before); returns the account id."""
    from ezscale.demo.gateways import connect_reseller_stripe

    with live_app.platform():
        return connect_reseller_stripe(stripe_server)


def fill_card(page: Page, number: str = "4242424242424242") -> None:
    """Type a card into localstripe's Stripe.js shim element (#card-element)."""
    card = page.locator("#card-element")
    for name, value in (("number", number), ("exp_month", "12"), ("exp_year", "30"), ("cvc", "123")):
        card.get_by_placeholder(name, exact=True).fill(value)
    card.get_by_placeholder("postal_code").fill("10115")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


# The page's load handlers have run for the page the browser is on (after a page load or a link,
# the tab holds the state of the page it was on until they have).
LOADED_JS = """() => {
    const root = document.querySelector('#site-root');
    const path = p => p.split('?')[0].replace(/\\/+$/, '') || '/';
    return !!root && root.dataset.hydrated === 'true'
        && path(root.dataset.path || '') === path(location.pathname);
}"""


def wait_loaded(page: Page) -> None:
    """Wait until the page the browser is on has been loaded (after a click on a link)."""
    page.wait_for_function(LOADED_JS)


def open_site(page: Page, url: str, status: str = "ok") -> None:
    """Go to a page and wait until the site (tenant) has been resolved and the page's load handlers
    have run."""
    page.goto(url)
    page.wait_for_selector(f"#site-root[data-site-status='{status}']")
    wait_loaded(page)


def member_session(
    live_app: LiveApp, email: str, role: Role = Role.CUSTOMER, *, tenant: str = "acme", name: str = ""
) -> str:
    """A signed-in session token for `email` on `tenant`'s site, with `role` (the user is made,
    with `name` and a verified address, the first time)."""
    with live_app.platform(), central_session() as central:
        info = TenantInfo.of(get_tenant(central, tenant))
        with tenant_session(info) as db:
            user = db.exec(select(User).where(User.email == email)).first()
            if user is None:
                now = clock.now()
                user = User(
                    email=email,
                    name=name,
                    password_hash="x",
                    role=role,
                    created_at=now,
                    email_verified_at=now,
                )
                db.add(user)
                db.commit()
            return create_user_session(db, user=user, method="password")


def admin_session(live_app: LiveApp) -> str:
    """A signed-in session token of the demo platform admin (TOTP set up and passed)."""
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        return create_admin_session(central, admin=admin, method="password+totp")


def page_as(
    browser: Browser, live_app: LiveApp, token: str, *, width: int | None = None, host: str = "acme.localhost"
) -> Page:
    """A fresh browser page signed in with `token` on `host` (`width`: a viewport 900 px high)."""
    context = (
        browser.new_context(viewport={"width": width, "height": 900}) if width else browser.new_context()
    )
    context.add_cookies([{"name": "ezscale_session", "value": token, "url": live_app.url(host)}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page
