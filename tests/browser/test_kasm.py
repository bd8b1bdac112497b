"""Browser: order a workspace, watch it provision and tick live, stop it, find it billed as shown.

The live app talks to a Kasm simulator in this process (its address is put in the environment
at import, before the live app starts) and a real Celery worker provisions the workspace.
"""

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from ezscale.db import central_session
from ezscale.models.billing import UsageCharge
from ezscale.models.kasm import KasmUsageSession, KasmWorkspace
from ezscale.models.tenant import User
from ezscale.money import Money
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.billing.profiles import current_anchor_day
from ezscale.services.kasm import signal as kasm_signal
from ezscale.services.kasm.client import KasmClient
from ezscale.services.kasm.credit import usage_invoice_date
from ezscale.services.kasm.sync import reconcile
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.simulators.kasm import KasmSimulator, RunningServer, serve
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import PROJECT_ROOT, open_site

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_KASM_PORT = _free_port()
os.environ["KASM_API_URL"] = f"http://127.0.0.1:{_KASM_PORT}"


@pytest.fixture(scope="module")
def kasm_server() -> Iterator[KasmSimulator]:
    sim = KasmSimulator(provision_seconds=3)
    server: RunningServer = serve(sim, port=_KASM_PORT)
    yield sim
    server.stop()


@pytest.fixture(scope="module")
def worker(live_app, kasm_server) -> Iterator[None]:
    env = dict(live_app.env, KASM_API_URL=f"http://127.0.0.1:{_KASM_PORT}")
    command = [sys.executable, "-m", "celery", "-A", "ezscale.tasks", "worker", "-l", "warning"]
    command += ["--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True)
    yield
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def _sign_in(live_app, page: Page, email: str) -> TenantInfo:
    with live_app.platform():
        with central_session() as central:
            tenant = TenantInfo.of(get_tenant(central, "ezscale"))
        with tenant_session(tenant) as db:
            user = db.exec(select(User).where(User.email == email)).one()
            token = create_user_session(db, user=user, method="password")
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url("localhost")}])
    return tenant


def test_order_provision_tick_stop_and_bill_what_was_shown(live_app, worker, kasm_server, page: Page):
    open_site(page, live_app.url("localhost", "/client/workspaces"))  # → sign in first
    page.wait_for_url(re.compile(r"/login\?next=/client/workspaces"))
    page.fill("#email-input", "customer@ezscale.test")
    page.fill("#password-input", "customer-demo-pass")
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/client/workspaces/?$"))
    expect(page.locator("#kasm-month")).to_contain_text("This month")
    with live_app.platform(), central_session() as central:
        tenant = TenantInfo.of(get_tenant(central, "ezscale"))
    page.locator("#kasm-order").click()

    card = page.locator(".kasm-workspace").first
    expect(card).to_have_attribute("data-status", "provisioning")
    workspace_id = card.get_attribute("data-workspace-id")
    # The worker provisions it; the page learns without a reload.
    expect(card).to_have_attribute("data-status", "running", timeout=30_000)
    expect(page.locator(f"#kasm-status-{workspace_id}")).to_have_text("running")

    timer = page.locator(f"#kasm-timer-{workspace_id}")
    expect(timer).to_have_text(re.compile(r"Running for 0h 00m \d\ds"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=5_000)  # ticks in the browser
    cost = page.locator(f"#kasm-cost-{workspace_id}")
    expect(cost).to_have_text("$0.04")  # first started quarter hour at $0.15/h, half-up

    shown = cost.inner_text()
    # Billing, open meanwhile, lists the running usage so far, and drops "running" by itself
    # once the workspace stops (it re-reads every 15 seconds while something runs).
    billing = page.context.new_page()
    open_site(billing, live_app.url("localhost", "/client/billing"))
    expect(billing.locator("#upcoming tr", has_text="Workspace usage so far (running")).to_be_visible()
    page.locator(f"#kasm-stop-{workspace_id}").click()  # an ephemeral workspace: confirm first
    page.locator(f"#kasm-stop-dialog-{workspace_id}").get_by_role(
        "button", name="Stop and lose files"
    ).click()
    expect(card).to_have_attribute("data-status", re.compile("stopping|stopped"))
    row = page.locator("#kasm-history [data-session-id]").first
    expect(row.locator(".kasm-history-cost")).to_have_text(shown)
    expect(card).to_have_attribute("data-status", "stopped", timeout=15_000)

    with live_app.platform(), tenant_session(tenant) as db:
        query = select(KasmUsageSession).where(KasmUsageSession.workspace_id == int(workspace_id))
        [usage] = db.exec(query).all()
    assert usage.cost_minor == 4 and usage.billable_seconds == 900
    assert usage.kasm_id not in kasm_server.kasms

    # Billing's upcoming charges show the usage not invoiced yet, and when it will be invoiced.
    with live_app.platform(), tenant_session(tenant) as db:
        pending = db.exec(select(UsageCharge).where(col(UsageCharge.invoice_id).is_(None))).all()
        user_id = db.exec(select(User.id).where(User.email == "customer@ezscale.test")).one()
        owed = sum(c.amount_minor for c in pending if c.user_id == user_id)
        first_end = min(c.period_end for c in pending if c.user_id == user_id)
        on = usage_invoice_date(first_end, anchor_day=current_anchor_day(db, user_id=user_id))
    line = billing.locator("#upcoming tr", has_text="Workspace usage so far")
    expect(line).not_to_contain_text("running", timeout=30_000)  # refreshed without a reload
    expect(line).to_contain_text(Money(owed, "USD").format())
    expect(line).to_contain_text(f"{on:%Y-%m-%d}")


def test_open_workspace_and_an_outside_stop_shows_up_without_reload(
    live_app, worker, kasm_server, page: Page
):
    tenant = _sign_in(live_app, page, "customer@ezscale.test")
    open_site(page, live_app.url("localhost", "/client/workspaces"))
    expect(page.locator("#kasm-month")).to_contain_text("This month")  # the dashboard has loaded
    cards = page.locator(".kasm-workspace")
    before = {cards.nth(i).get_attribute("data-workspace-id") for i in range(cards.count())}
    page.locator("#kasm-order").click()
    expect(cards).to_have_count(len(before) + 1)
    [workspace_id] = {cards.nth(i).get_attribute("data-workspace-id") for i in range(cards.count())} - before
    card = page.locator(f".kasm-workspace[data-workspace-id='{workspace_id}']")
    expect(card).to_have_attribute("data-status", "running", timeout=30_000)

    with page.context.expect_page() as opened:
        card.get_by_role("button", name="Open workspace").click()
    assert f"{kasm_server_url()}/#/connect/kasm/" in opened.value.url

    kasm_signal.install()  # this process plays the worker that reconciles: it announces its commits
    with live_app.platform(), tenant_session(tenant) as db:
        kasm_id = db.get(KasmWorkspace, int(workspace_id)).kasm_id
        kasm_server.stop_outside(kasm_id)
        with KasmClient(base_url=kasm_server_url(), api_key="demo-key", api_secret="demo-secret") as client:
            reconcile(db, tenant=tenant, listing=client.get_kasms(), client=client)
    expect(card).to_have_attribute("data-status", "stopped", timeout=2_000)
    expect(card).to_contain_text("stopped outside the app")


def kasm_server_url() -> str:
    return f"http://127.0.0.1:{_KASM_PORT}"
