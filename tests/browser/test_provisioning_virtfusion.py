"""Browser, VPS product line (VirtFusion): order → pay → provisioning → active without reload →
power action → upgrade with its prorated quote → cancel, on the real app with a real Celery
worker and the VirtFusion simulator in this process (the demo panel is pointed at it)."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from ezscale.db import central_session
from ezscale.demo.panels import DEMO_PANELS
from ezscale.models.provisioning import ProvisioningPanel
from ezscale.models.tenant import Service, ServiceStatus
from ezscale.services.core.audit import operator
from ezscale.services.provisioning import panels
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.simulators.virtfusion import VirtFusionSimulator, serve
from tests.browser.conftest import PROJECT_ROOT, open_site
from tests.browser.test_client_services import WIDTHS, customer, fits, shots, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def virtfusion(live_app) -> Iterator[VirtFusionSimulator]:
    """The VirtFusion simulator, with the demo's VirtFusion panel pointed at it."""
    sim = VirtFusionSimulator(build_seconds=3)
    running = serve(sim)
    sim.url = running.url
    with live_app.platform(), central_session() as central:
        demo = next(p for p in DEMO_PANELS if p.module == "virtfusion")  # other tests add panels of their own
        panel = central.exec(select(ProvisioningPanel).where(ProvisioningPanel.label == demo.label)).one()
        demo_url = panel.base_url
        panels.update_panel(central, panel_id=panel.id, base_url=running.url, actor=operator("test"))
    yield sim
    with live_app.platform(), central_session() as central:  # back to the demo's simulator
        panels.update_panel(central, panel_id=panel.id, base_url=demo_url, actor=operator("test"))
    running.stop()


@pytest.fixture(scope="module")
def worker(live_app, virtfusion) -> Iterator[None]:
    command = [sys.executable, "-m", "celery", "-A", "ezscale.tasks", "worker", "-l", "warning", "-Q"]
    command += ["celery,critical", "--concurrency", "1", "--without-gossip", "--without-mingle"]
    process = subprocess.Popen(
        [*command, "--without-heartbeat"], env=live_app.env, cwd=PROJECT_ROOT, start_new_session=True
    )
    yield
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def eventually(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Poll `check` until it holds (deadline, no fixed sleeps)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.2)


def set_status(live_app, tenant, service_id: int, status: ServiceStatus, reason: str) -> None:
    """Change the service's status behind the page's back (as dunning would)."""
    with live_app.platform(), tenant_session(tenant) as db:
        service = db.get(Service, service_id)
        service.status, service.status_reason = status, reason
        db.add(service)
        db.commit()


def confirm_with(page: Page, trigger: str) -> None:
    page.locator(trigger).click()
    page.locator(".confirm-dialog .confirm-ok").click()


def test_vps_order_to_cancel(live_app, worker, virtfusion, page: Page, tmp_path):
    tenant, _, token = customer(live_app, "vps-journey@ezscale.test", credit_minor=50_000)
    sign_in(live_app, page, token)

    open_site(page, live_app.url("localhost", "/order/vps-1"))
    page.locator("#place-order").click()
    expect(page).to_have_url(re.compile(r"/client/billing\?invoice=\d+$"))

    open_site(page, live_app.url("localhost", "/client"))
    page.locator("#client-services .service-link").click()
    expect(page).to_have_url(re.compile(r"/client/services/\d+$"))
    # Built by the worker on the panel; the page learns without a reload.
    expect(page.locator("#service-status")).to_have_text("active", timeout=60_000)
    expect(page.locator("#service-ips")).to_have_text(re.compile(r"\d+\.\d+\.\d+\.\d+"))
    service_id = page.url.rsplit("/", 1)[1]

    # Only this service's server (an order other tests left pending is built by this worker too).
    def mine() -> list:
        return [s for s in virtfusion.live_servers() if s.name == f"ezscale-{service_id}"]

    assert len(mine()) == 1

    page.locator("#load-usage").click()  # shown at once when the page is opened on an active service
    expect(page.locator("#service-usage")).to_contain_text("Traffic this month")
    page.locator("#reveal-login").click()
    expect(page.locator("#login-username")).to_have_text("root")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        fits(page)
        page.screenshot(path=shots(tmp_path) / f"client-service-active-{width}.png", full_page=True)

    with page.expect_popup() as popup:  # one-click sign-in: a single-use link on the panel
        page.locator("#open-panel").click()
    assert popup.value.url.startswith(virtfusion.url + "/")
    popup.value.close()

    confirm_with(page, "#power-reboot")
    expect(page.locator("#service-message")).to_have_text("Reboot sent")
    assert virtfusion.count("POST /servers/{id}/power/restart") == 1

    # A suspension (and its lifting) shows without a reload; the actions go while suspended.
    service_id = int(page.url.rsplit("/", 1)[1])
    set_status(live_app, tenant, service_id, ServiceStatus.SUSPENDED, "unpaid invoice")
    expect(page.locator("#service-status")).to_have_text("suspended")
    expect(page.locator("#service-state-note")).to_contain_text("unpaid invoice")
    expect(page.locator("#service-power")).to_have_count(0)
    set_status(live_app, tenant, service_id, ServiceStatus.ACTIVE, "")
    expect(page.locator("#service-status")).to_have_text("active")

    page.locator("#plan-select").click()
    page.get_by_role("option", name=re.compile("VPS 2")).click()
    expect(page.locator("#quote-outcome")).to_have_text(re.compile(r"^To pay now: \$\d+\.\d\d plus tax$"))
    confirm_with(page, "#change-plan")
    expect(page.locator("#service-message")).to_have_text(
        "Plan changed to VPS 2: your server is being moved to it."
    )
    expect(page.locator("#service-plan")).to_have_text("VPS 2")
    eventually(lambda: mine()[0].package_id == 2, "the server moved to package 2")

    confirm_with(page, "#cancel-at-end")
    expect(page.locator("#cancels-at")).to_be_visible()
    assert mine(), "cancelling at period end keeps the server"
    confirm_with(page, "#cancel-now")
    expect(page.locator("#service-status")).to_have_text("terminated")
    eventually(lambda: not mine(), "the server was deleted from the panel")
