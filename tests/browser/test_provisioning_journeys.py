"""Browser, every provisioned product line (VPS on VirtFusion, game server on Pterodactyl, web
hosting on Enhance, dedicated server on SynergyCP): order on the storefront → paid from credit →
provisioning → active without a reload → power actions with their confirmation → OS reinstall
(where the module has it) → a suspension that reaches the panel and is lifted → an upgrade whose
prorated quote matches a hand computation → cancel at period end, then now, the page following
the removal from the panel (retried for the VPS) without a reload.

One app, one frontend build and one Celery worker serve all four cases; each product's
simulator runs in this process (the demo's panel is pointed at it) so the test reads the
panel's own state. Screenshots of each active service page, and of the cancelled one while and
after it is removed, at 1366 and 390 px go to $EZSCALE_SCREENSHOTS (default: the test's tmp dir)."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.demo.panels import DEMO_PANELS
from ezscale.models.central import PlatformAdmin
from ezscale.models.provisioning import ProvisioningPanel
from ezscale.models.tenant import Plan, ServiceType, Subscription
from ezscale.services.accounts.sessions import create_admin_session
from ezscale.services.core.audit import operator
from ezscale.services.provisioning import panels
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.simulators import rest
from ezscale.simulators import virtfusion as virtfusion_sim
from ezscale.simulators.enhance import EnhanceSimulator
from ezscale.simulators.pterodactyl import PterodactylSimulator
from ezscale.simulators.synergycp import SynergyCPSimulator
from ezscale.state.auth import SESSION_COOKIE
from tests.browser.conftest import PROJECT_ROOT, open_site
from tests.browser.test_client_services import WIDTHS, customer, fits, shots, sign_in

pytestmark = pytest.mark.browser

BUILD_SECONDS = 2
ALL_POWER = ("boot", "reboot", "shutdown", "power_off", "start", "stop", "restart", "kill")


@dataclass(frozen=True)
class Upgrade:
    """The plan a journey moves to (added to the house catalogue for these tests) and its
    mapping on the same panel."""

    code: str
    name: str
    price_minor: int
    package: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """One product line: what is ordered, what its page must offer, and how its panel is read."""

    module: str
    order: str
    price_minor: int
    service_type: ServiceType
    upgrade: Upgrade
    power: tuple[str, ...]  # the buttons its page shows (every other power action is absent)
    press: tuple[str, ...]  # the ones the journey presses
    reinstall: bool
    reinstall_call: str  # the simulator's name for the panel call that reinstalls
    login: Callable[[int], str]  # the username shown, from our customer id
    record: Callable[[Any, int], Any]  # the service on the panel (None when gone)
    suspended: Callable[[Any, Any], bool]
    moved: Callable[[Any, Any], bool]  # on the upgrade's package
    idle: Callable[[Any, Any], bool]  # no build or install running
    power_state: Callable[[Any], str] = lambda record: ""
    after_power: dict[str, str] = field(default_factory=dict)  # the panel's power state after each


def _vf_record(sim, service_id: int):
    return next((s for s in sim.live_servers() if s.name == f"ezscale-{service_id}"), None)


def _ptero_record(sim, service_id: int):
    return next((s for s in list(sim.servers.values()) if s["external_id"] == str(service_id)), None)


def _enhance_record(sim, service_id: int):
    name = f"ezscale-service-{service_id}"
    return next(
        (
            s
            for s in list(sim.subscriptions.values())
            if s["friendlyName"] == name and s["status"] != "deleted"
        ),
        None,
    )


def _scp_record(sim, service_id: int):
    return next((s for s in list(sim.servers.values()) if s["billing"]["id"] == service_id), None)


LINES = {
    "vps": Line(
        module="virtfusion",
        order="vps-1",
        price_minor=600,
        service_type=ServiceType.VPS,
        upgrade=Upgrade("vps-2", "VPS 2", 1500, "2"),  # the demo's own second VPS plan
        power=("boot", "reboot", "shutdown", "power_off"),
        press=("reboot",),
        reinstall=True,
        reinstall_call="POST /servers/{id}/build",
        login=lambda user_id: "root",
        record=_vf_record,
        suspended=lambda sim, s: s.suspended,
        moved=lambda sim, s: s.package_id == 2,
        idle=lambda sim, s: not sim._state(s)[2],
        power_state=lambda s: s.power,
        after_power={"reboot": "running"},
    ),
    "game": Line(
        module="pterodactyl",
        order="game-minecraft",
        price_minor=1200,
        service_type=ServiceType.GAME,
        upgrade=Upgrade(
            "game-minecraft-8",
            "Minecraft 8 GB",
            2400,
            "1/1",
            {"memory": "8192", "disk": "40960", "cpu": "400"},
        ),
        power=("start", "stop", "restart", "kill"),
        press=("stop", "start", "restart", "kill"),
        reinstall=True,
        reinstall_call="reinstall",
        login=lambda user_id: f"ezs{user_id}",
        record=_ptero_record,
        suspended=lambda sim, s: sim._status(s) == "suspended",
        moved=lambda sim, s: s["limits"]["memory"] == 8192,
        idle=lambda sim, s: sim._status(s) is None,
        power_state=lambda s: s["power"],
        after_power={"start": "running", "stop": "offline", "restart": "running", "kill": "offline"},
    ),
    "web": Line(
        module="enhance",
        order="web-starter",
        price_minor=400,
        service_type=ServiceType.WEB_HOSTING,
        upgrade=Upgrade("web-business", "Web Hosting Business", 1000, "2"),
        power=(),
        press=(),
        reinstall=False,
        reinstall_call="",
        login=lambda user_id: "",  # the org's owner login is the customer's e-mail (checked below)
        record=_enhance_record,
        suspended=lambda sim, s: s["suspendedBy"] is not None,
        moved=lambda sim, s: s["planId"] == 2,
        idle=lambda sim, s: True,
    ),
    "dedicated": Line(
        module="synergycp",
        order="dedi-e3",
        price_minor=12900,
        service_type=ServiceType.DEDICATED,
        upgrade=Upgrade(
            "dedi-e3-20tb",
            "Dedicated E-2388G 20 TB",
            14900,
            "cpu_billing=e-2388g&mem_billing=64gb&disks_billing[]=nvme-1tb&disks_billing[]=nvme-1tb",
            {"ips_billing": "ipv4-29", "pxe_profile_billing": "ubuntu-24", "max_bandwidth": "20TB"},
        ),
        power=("boot", "reboot", "shutdown", "power_off"),
        press=("reboot",),
        reinstall=True,
        reinstall_call="install",
        login=lambda user_id: "root",
        record=_scp_record,
        suspended=lambda sim, s: not s["access"]["is_active"],
        moved=lambda sim, s: s["billing"]["max_bandwidth"] == "20TB",
        idle=lambda sim, s: all(i["done_at"] <= sim.clock() for i in s["installs"]),
        power_state=lambda s: s["power"],
        after_power={"reboot": "on"},
    ),
}


@dataclass
class Panels:
    """The four simulators, by module."""

    sims: dict[str, Any]


@pytest.fixture(scope="module")
def simulators(live_app) -> Iterator[Panels]:
    """Each product's simulator in this process; the demo's panels pointed at them (and back)."""
    sims: dict[str, Any] = {
        "virtfusion": virtfusion_sim.VirtFusionSimulator(build_seconds=BUILD_SECONDS),
        "pterodactyl": PterodactylSimulator(build_seconds=BUILD_SECONDS),
        "enhance": EnhanceSimulator(build_seconds=BUILD_SECONDS),
        "synergycp": SynergyCPSimulator(build_seconds=BUILD_SECONDS),
    }
    running, restore = [], {}
    with live_app.platform(), central_session() as central:
        for demo in DEMO_PANELS:
            sim = sims[demo.module]
            served = virtfusion_sim.serve(sim) if demo.module == "virtfusion" else rest.serve(sim)
            sim.url = served.url
            running.append(served)
            panel = central.exec(select(ProvisioningPanel).where(ProvisioningPanel.label == demo.label)).one()
            restore[panel.id] = panel.base_url
            panels.update_panel(central, panel_id=panel.id, base_url=served.url, actor=operator("test"))
        demo_panel = {d.module: d for d in DEMO_PANELS}
        for line in LINES.values():
            if line.upgrade.code == "vps-2":
                continue
            panel = central.exec(
                select(ProvisioningPanel).where(ProvisioningPanel.label == demo_panel[line.module].label)
            ).one()
            panels.set_mapping(
                central,
                plan_code=line.upgrade.code,
                panel_id=panel.id,
                package=line.upgrade.package,
                options=line.upgrade.options,
                actor=operator("test"),
            )
    yield Panels(sims)
    with live_app.platform(), central_session() as central:
        for panel_id, url in restore.items():
            panels.update_panel(central, panel_id=panel_id, base_url=url, actor=operator("test"))
    for served in running:
        served.stop()


@pytest.fixture(scope="module")
def upgrade_plans(live_app, simulators) -> Iterator[None]:
    """The second plan of each product line (the demo sells one game, hosting and dedicated
    plan), in the house catalogue for these tests, withdrawn afterwards."""
    with live_app.platform(), central_session() as central:
        tenant = TenantInfo.of(get_tenant(central, "ezscale"))
    with live_app.platform(), tenant_session(tenant) as db:
        for line in LINES.values():
            up = line.upgrade
            if db.exec(select(Plan).where(Plan.code == up.code)).first() is None:
                db.add(
                    Plan(
                        code=up.code, name=up.name, service_type=line.service_type, price_minor=up.price_minor
                    )
                )
        db.commit()
    yield
    with live_app.platform(), tenant_session(tenant) as db:
        for line in LINES.values():
            if line.upgrade.code != "vps-2":
                plan = db.exec(select(Plan).where(Plan.code == line.upgrade.code)).one()
                plan.active = False
                db.add(plan)
        db.commit()


@pytest.fixture(scope="module")
def worker(live_app, simulators) -> Iterator[None]:
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


def confirm_with(page: Page, trigger: str) -> None:
    page.locator(trigger).click()
    page.locator(".confirm-dialog .confirm-ok").click()


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _month_before(end: datetime) -> datetime:
    return end.replace(year=end.year - 1, month=12) if end.month == 1 else end.replace(month=end.month - 1)


def expected_quotes(old: int, new: int, *, end: datetime, start: float, stop: float) -> set[tuple[int, int]]:
    """(credit, charge) in cents for every whole second the quote may have been made at: the
    unused part of each plan's monthly price, (end − now) / the whole month ending at `end`, each
    rounded half-up on its own."""
    whole = int((end - _month_before(end)).total_seconds())
    found = set()
    for second in range(int(start) - 1, int(stop) + 2):
        left = int(end.timestamp()) - second
        found.add((_round(Decimal(old) * left / whole), _round(Decimal(new) * left / whole)))
    return found


def _cents(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text.rsplit("$", 1)[1]))


@pytest.fixture(scope="module")
def admin_page(live_app, browser: Browser) -> Iterator[Page]:
    """A platform admin (two-factor done) in a browser context of their own."""
    with live_app.platform(), central_session() as central:
        admin = central.exec(select(PlatformAdmin).where(PlatformAdmin.email == "admin@ezscale.test")).one()
        admin.totp_enabled_at = admin.totp_enabled_at or clock.now()
        central.add(admin)
        central.commit()
        token = create_admin_session(central, admin=admin, method="password+totp")
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_app.url("localhost")}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.mark.parametrize("product", list(LINES))
def test_order_to_cancel(
    product, live_app, simulators, upgrade_plans, worker, admin_page, page: Page, tmp_path
):
    line = LINES[product]
    sim = simulators.sims[line.module]
    email = f"journey-{product}@ezscale.test"
    tenant, user_id, token = customer(live_app, email, credit_minor=100_000)
    sign_in(live_app, page, token)

    open_site(page, live_app.url("localhost", f"/order/{line.order}"))
    page.locator("#place-order").click()
    expect(page).to_have_url(re.compile(r"/client/billing\?invoice=\d+$"))

    open_site(page, live_app.url("localhost", "/client"))
    page.locator("#client-services .service-link").click()
    expect(page).to_have_url(re.compile(r"/client/services/\d+$"))
    service_id = int(page.url.rsplit("/", 1)[1])
    # Built by the worker on the panel; the page learns without a reload.
    expect(page.locator("#service-status")).to_have_text("active", timeout=60_000)
    record = line.record(sim, service_id)
    assert record is not None, "the service is on its panel"

    # Only what the module offers is on the page.
    for action in ALL_POWER:
        expect(page.locator(f"#power-{action}")).to_have_count(1 if action in line.power else 0)
    expect(page.locator("#service-power")).to_have_count(1 if line.power else 0)
    expect(page.locator("#service-reinstall")).to_have_count(1 if line.reinstall else 0)
    expect(page.locator("#service-usage")).to_have_count(1)
    expect(page.locator("#open-panel")).to_have_count(1)

    page.locator("#load-usage").click()  # loaded by itself only when the page opens on an active service
    expect(page.locator("#service-usage")).to_contain_text(re.compile(r" of |unlimited"))
    page.locator("#reveal-login").click()
    expect(page.locator("#login-username")).to_have_text(line.login(user_id) or email)
    if product == "game":  # the game panel's login and the SFTP account derived from it
        identifier = record["identifier"]
        expect(page.locator("#login-password")).to_have_text(re.compile(r"^\S{16,}$"))
        expect(page.locator("#login-sftp-user")).to_have_text(f"ezs{user_id}.{identifier}")
        expect(page.locator("#login-sftp-address")).to_have_text(re.compile(r"^sftp://[\w.-]+:2022$"))
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        fits(page)
        page.screenshot(path=shots(tmp_path) / f"service-{product}-active-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    with page.expect_popup() as popup:  # one-click sign-in at the panel
        page.locator("#open-panel").click()
    assert popup.value.url.startswith(sim.url + "/")
    popup.value.close()

    for action in line.press:
        label = page.locator(f"#power-{action}").inner_text()
        confirm_with(page, f"#power-{action}")
        expect(page.locator("#service-message")).to_have_text(f"{label} sent")
        assert line.power_state(line.record(sim, service_id)) == line.after_power[action]

    if line.reinstall:
        shown_password = page.locator("#login-password").all_inner_texts()
        reinstalls = sim.count(line.reinstall_call)
        page.locator("#load-os").click()
        page.locator("#os-select").click()
        page.get_by_role("option").first.click()
        confirm_with(page, "#reinstall")
        expect(page.locator("#service-message")).to_contain_text(re.compile(r"^reinstall with .+ started$"))
        assert sim.count(line.reinstall_call) == reinstalls + 1, "the panel was asked to reinstall"
        expect(page.locator("#login-username")).to_have_count(0)  # the login shown before is put away
        if product == "dedicated":  # a new root password, revealed on demand again
            page.locator("#reveal-login").click()
            expect(page.locator("#login-password")).not_to_have_text(shown_password[0])
        eventually(
            lambda: line.idle(sim, line.record(sim, service_id)), "the reinstall finished on the panel"
        )

    # Staff suspend the service on the customer's record (as dunning would): the worker
    # suspends it on the panel, and the customer's page shows it without a reload.
    open_site(admin_page, live_app.url("localhost", f"/admin/customer?tenant={tenant.id}&user={user_id}"))
    staff_services = admin_page.locator("#customer-services")
    # The page opens on the record this admin saw last (the previous product's customer) until
    # its loader has read this one: click only once this customer's service is listed.
    expect(staff_services.locator(f"a.service-provisioning[href$='service={service_id}']")).to_have_count(1)
    staff_services.get_by_role("button", name="Suspend", exact=True).click()
    expect(staff_services.get_by_role("button", name="Unsuspend")).to_have_count(1)
    expect(page.locator("#service-status")).to_have_text("suspended")
    expect(page.locator("#service-state-note")).to_contain_text("suspended by staff")
    expect(page.locator("#service-power")).to_have_count(0)
    eventually(lambda: line.suspended(sim, line.record(sim, service_id)), "suspended on the panel")
    staff_services.get_by_role("button", name="Unsuspend").click()
    expect(page.locator("#service-status")).to_have_text("active")
    eventually(lambda: not line.suspended(sim, line.record(sim, service_id)), "unsuspended on the panel")

    # Upgrade: the quote is the unused part of each plan's price to the second.
    with live_app.platform(), tenant_session(tenant) as db:
        sub = db.exec(select(Subscription).where(Subscription.service_id == service_id)).one()
        end = sub.current_period_end.astimezone(UTC)
    before = time.time()
    page.locator("#plan-select").click()
    page.get_by_role("option", name=re.compile(re.escape(line.upgrade.name))).click()
    outcome = page.locator("#quote-outcome")
    expect(outcome).to_have_text(re.compile(r"^To pay now: \$\d+\.\d\d plus tax$"))
    after = time.time()
    credit = _cents(page.locator("#plan-quote").get_by_text("Unused time on").inner_text())
    charge = _cents(page.locator("#plan-quote").get_by_text("Remaining time on").inner_text())
    possible = expected_quotes(line.price_minor, line.upgrade.price_minor, end=end, start=before, stop=after)
    assert (credit, charge) in possible, f"quote {(credit, charge)} is none of {sorted(possible)}"
    assert _cents(outcome.inner_text()) == charge - credit
    confirm_with(page, "#change-plan")
    expect(page.locator("#service-message")).to_have_text(
        f"Plan changed to {line.upgrade.name}: your server is being moved to it."
    )
    expect(page.locator("#service-plan")).to_have_text(line.upgrade.name)
    expect(page.locator("#service-label")).to_have_text(line.upgrade.name)  # named after its plan
    eventually(lambda: line.moved(sim, line.record(sim, service_id)), "the panel moved it to the new package")

    confirm_with(page, "#cancel-at-end")
    expect(page.locator("#cancels-at")).to_be_visible()
    assert line.record(sim, service_id) is not None, "cancelling at period end keeps it on the panel"
    if product == "vps":  # the panel refuses the first two removals: the page says it is under way
        sim.inject("DELETE /servers/{id}", *["500"] * 6)  # three calls per attempt
    confirm_with(page, "#cancel-now")
    expect(page.locator("#service-status")).to_have_text("terminated")
    expect(page.locator("#service-state-note")).to_have_count(1)
    expect(page.locator("#service-state-note")).to_contain_text("Terminated (cancelled).")
    expect(page.locator("#service-message")).to_have_count(0)  # said once, by the note
    expect(page.locator("#reveal-login")).to_have_count(0)  # nothing left to log in to
    removal = page.locator("#service-removal")
    if product == "vps":
        expect(removal).to_have_text("Removing from the panel…")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            fits(page)
            page.screenshot(path=shots(tmp_path) / f"service-{product}-removing-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1366, "height": 900})
    eventually(lambda: line.record(sim, service_id) is None, "removed from the panel")
    expect(removal).to_have_text("Removed from the panel.")  # pushed by the page's watch, no reload
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        fits(page)
        page.screenshot(path=shots(tmp_path) / f"service-{product}-removed-{width}.png", full_page=True)
