"""The SynergyCP module and client against the loopback API: lifecycle, adoption by billing id,
stock gone between check and create, VIP skips, retries, bad replies."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ezscale.services.provisioning import synergycp
from ezscale.services.provisioning.module import (
    BuildState,
    Customer,
    GoneFromPanel,
    NeedsStaff,
    OutOfStock,
    PanelConfig,
    PanelRejected,
    PanelUnavailable,
    PlanMapping,
    PowerAction,
    ServiceRef,
)
from ezscale.services.provisioning.synergycp import PICK_ATTEMPTS, SynergyCPModule
from ezscale.simulators.rest import serve
from ezscale.simulators.synergycp import SynergyCPSimulator
from tests.services.provisioning.panel_contract import assert_meets_contract

CUSTOMER = Customer(id=42, email="ops@example.com", name="Grace Hopper")
E3 = "cpu_billing=e-2388g&mem_billing=64gb&disks_billing[]=nvme-1tb&disks_billing[]=nvme-1tb"
EPYC = "cpu_billing=epyc-7302&mem_billing=128gb&disks_billing[]=nvme-2tb&disks_billing[]=nvme-2tb"
OPTIONS = {"ips_billing": "ipv4-29", "pxe_profile_billing": "ubuntu-24", "max_bandwidth": "10TB"}
PLAN = PlanMapping(package=E3, options=OPTIONS)


class Clock:
    """A settable clock for the simulator's installs."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(clock):
    simulator = SynergyCPSimulator(build_seconds=60, hang_seconds=1.0, clock=clock)
    server = serve(simulator)
    simulator.url = server.url
    yield simulator
    server.stop()


def _module(sim, **options) -> SynergyCPModule:
    return SynergyCPModule(
        PanelConfig(
            module="synergycp",
            base_url=sim.url,
            credentials={"api_key": options.pop("api_key", "scp-demo-key")},
            options={
                "backoff": "0",
                "create_timeout_seconds": "0.5",
                "os_profiles": "ubuntu-24=Ubuntu 24.04;debian-12=Debian 12",
            }
            | options,
            timeout_seconds=0.5,
        )
    )


def _assigned(sim) -> list[dict]:
    return [s for s in sim.servers.values() if s["billing"]["id"] is not None]


def test_full_lifecycle(sim, clock):
    module = _module(sim)
    assert "5 server(s)" in module.test_connection()
    assert module.check_capacity(PLAN).available == 3
    assert module.check_capacity(PlanMapping(package=EPYC, options=OPTIONS)).available == 2

    made = module.create(CUSTOMER, ServiceRef(service_id=7), PLAN, hostname="db1.example.com")
    assert made.state is BuildState.BUILDING and made.password and made.username == "root"
    assert made.hostname == "db1.example.com" and not made.ips  # the addresses come with "ready"
    [server] = _assigned(sim)
    assert server["billing"]["id"] == 7 and server["parts"]["cpu_billing"] == "e-2388g"
    [client] = sim.clients.values()
    assert client["billing_id"] == "42"
    assert module.check_capacity(PLAN).available == 2

    ref = ServiceRef(service_id=7, external_id=made.external_id, extra=made.extra)
    assert module.status(ref).state is BuildState.BUILDING
    clock.now = 61
    ready = module.status(ref)
    assert ready.state is BuildState.READY and ready.ips

    module.power(ref, PowerAction.POWER_OFF)
    assert server["power"] == "off"
    module.power(ref, PowerAction.BOOT)
    assert server["power"] == "on"
    [usage] = module.usage(ref)
    assert usage.limit == 10 * 10**12 and usage.unit == "bytes"

    url = module.sso_url(CUSTOMER, ref)
    assert url.startswith(f"{sim.url}/auth/sso?key=") and f"view_id={server['id']}" in url
    assert "ops@example.com" in httpx.get(url).text

    module.suspend(ref, reason="Overdue invoice")
    assert module.status(ref).state is BuildState.SUSPENDED and server["port"]["power"] == "off"
    module.unsuspend(ref)
    assert module.status(ref).state is BuildState.READY

    module.change_package(ref, PlanMapping(package=E3, options=OPTIONS | {"max_bandwidth": "20TB"}))
    assert server["billing"]["max_bandwidth"] == "20TB"
    with pytest.raises(NeedsStaff, match="staff"):
        module.change_package(ref, PlanMapping(package=EPYC, options=OPTIONS))

    assert [c.id for c in module.os_choices(ref)] == ["ubuntu-24", "debian-12"]
    again = module.reinstall(ref, "debian-12")
    assert again.state is BuildState.BUILDING and again.password and again.password != made.password
    with pytest.raises(PanelRejected):
        module.reinstall(ref, "windows-xp")

    module.terminate(ref)
    assert _assigned(sim) == [] and module.check_capacity(PLAN).available == 3
    with pytest.raises(GoneFromPanel):
        module.terminate(ref)
    with pytest.raises(GoneFromPanel):
        module.terminate(ServiceRef(service_id=7))
    assert module.find(CUSTOMER, ServiceRef(service_id=7)) is None


def test_failed_install_is_reported(sim, clock):
    sim.fail_installs = True
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=8), PLAN, hostname="h")
    clock.now = 61
    assert module.status(ServiceRef(service_id=8, external_id=made.external_id)).state is BuildState.FAILED


def test_duplicate_create_is_adopted_and_existing_email_linked(sim):
    module = _module(sim)
    sim.clients[500] = dict(
        id=500, name="Grace", email="ops@example.com", first="Grace", last="H", billing_id=None, vip=False
    )
    first = module.create(CUSTOMER, ServiceRef(service_id=9), PLAN, hostname="h")
    second = module.create(CUSTOMER, ServiceRef(service_id=9), PLAN, hostname="h")
    assert first.external_id == second.external_id and len(_assigned(sim)) == 1
    assert first.customer_external_id == "500" and sim.clients[500]["billing_id"] == "42"
    assert len(sim.clients) == 1


def test_timeout_after_success_is_adopted_not_repeated(sim):
    module = _module(sim)
    sim.inject("provision", "timeout")
    made = module.create(CUSTOMER, ServiceRef(service_id=10), PLAN, hostname="h")
    assert sim.count("provision") == 1 and len(_assigned(sim)) == 1
    found = module.find(CUSTOMER, ServiceRef(service_id=10))
    assert found is not None and found.external_id == made.external_id
    assert (
        module.create(CUSTOMER, ServiceRef(service_id=10), PLAN, hostname="h").external_id == made.external_id
    )
    assert sim.count("provision") == 1


def test_stock_gone_between_check_and_create_is_out_of_stock(sim):
    module = _module(sim)
    assert module.check_capacity(PLAN).in_stock
    sim.inject("provision", "exhausted")  # another order takes the last matching servers first
    with pytest.raises(OutOfStock):
        module.create(CUSTOMER, ServiceRef(service_id=11), PLAN, hostname="h")
    assert _assigned(sim) == [] and not module.check_capacity(PLAN).in_stock


def test_orders_at_once_each_get_a_server(sim):
    """Creates racing for the same free servers: a loser picks another, none is out of stock."""
    module = _module(sim)

    def order(n: int) -> str:
        customer = Customer(id=100 + n, email=f"c{n}@example.com", name="C")
        return module.create(customer, ServiceRef(service_id=20 + n), PLAN, hostname="h").external_id

    with ThreadPoolExecutor(max_workers=3) as pool:
        made = list(pool.map(order, range(3)))
    assert len(set(made)) == 3 and len(_assigned(sim)) == 3
    assert module.check_capacity(PLAN).available == 0  # the three E3 servers, sold once each


def test_picks_all_lost_to_other_orders_with_stock_left_are_retried_not_out_of_stock(sim, monkeypatch):
    """Each free server picked is sold to another order just before ours: with stock left that is
    a busy panel (retry later), not out of stock (which would refund the customer)."""
    for _ in range(PICK_ATTEMPTS + 2):
        sim.add_server(cpu="e-2388g", mem="64gb", disks=("nvme-1tb", "nvme-1tb"))
    module = _module(sim)
    taken = []

    def pick_lost_to_another_order(candidates):
        server = sim.servers[int(candidates[0])]
        server["access"] = {"id": 9000 + len(taken), "is_active": True, "client": {"id": 0}}
        taken.append(server["id"])
        return candidates[0]

    monkeypatch.setattr(synergycp.secrets, "choice", pick_lost_to_another_order)
    with pytest.raises(PanelUnavailable):
        module.create(CUSTOMER, ServiceRef(service_id=30), PLAN, hostname="h")
    assert len(taken) == PICK_ATTEMPTS and _assigned(sim) == []
    monkeypatch.undo()  # the next attempt meets no rival: it gets one of the servers left
    made = module.create(CUSTOMER, ServiceRef(service_id=30, fresh=False), PLAN, hostname="h")
    assert [str(s["id"]) for s in _assigned(sim)] == [made.external_id]
    assert int(made.external_id) not in taken


def test_no_free_ip_is_out_of_stock(sim):
    module = _module(sim)
    for entity in sim.entities.values():
        entity["server"] = 999
    assert module.check_capacity(PLAN).available == 0
    with pytest.raises(OutOfStock, match="IP"):
        module.create(CUSTOMER, ServiceRef(service_id=12), PLAN, hostname="h")


def test_vip_client_suspend_and_wipe_need_staff(sim):
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=13), PLAN, hostname="h")
    next(iter(sim.clients.values()))["vip"] = True
    ref = ServiceRef(service_id=13, external_id=made.external_id)
    with pytest.raises(NeedsStaff, match="VIP"):
        module.suspend(ref, reason="Overdue")
    with pytest.raises(NeedsStaff, match="VIP"):
        module.terminate(ref)
    assert len(_assigned(sim)) == 1 and _assigned(sim)[0]["access"]["is_active"]


def test_5xx_is_retried_on_reads_and_provision_only_after_a_500_that_made_nothing(sim):
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=14), PLAN, hostname="h")
    sim.inject("get_server", "500", "502")
    assert (
        module.status(ServiceRef(service_id=14, external_id=made.external_id)).external_id == made.external_id
    )
    assert sim.count("get_server") == 3
    # A 500 is the panel's own answer: the look-up finds nothing assigned, so it is sent once more.
    sim.inject("provision", "500")
    module.create(CUSTOMER, ServiceRef(service_id=15), PLAN, hostname="h")
    assert sim.count("provision") == 3 and len(_assigned(sim)) == 2
    # A gateway's 502: the panel may still be working on it, so it is never sent again.
    sim.inject("provision", "502")
    with pytest.raises(PanelUnavailable, match="HTTP 502"):
        module.create(CUSTOMER, ServiceRef(service_id=17), PLAN, hostname="h")
    assert sim.count("provision") == 4 and len(_assigned(sim)) == 2


def test_malformed_reply_is_refused_clearly(sim):
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=16), PLAN, hostname="h")
    sim.inject("get_server", "malformed")
    with pytest.raises(PanelUnavailable, match="could not read"):
        module.status(ServiceRef(service_id=16, external_id=made.external_id))


def test_bad_key_and_bad_mapping_are_rejected(sim):
    with pytest.raises(PanelRejected, match="credentials"):
        _module(sim, api_key="wrong").test_connection()
    with pytest.raises(PanelRejected, match="ips_billing"):
        _module(sim).check_capacity(PlanMapping(package=E3))
    with pytest.raises(PanelRejected, match="inventory filter"):
        _module(sim).check_capacity(PlanMapping(package="", options=OPTIONS))


def test_meets_the_module_contract():
    assert_meets_contract(SynergyCPModule)
    assert SynergyCPModule.name == "synergycp"


def test_two_concurrent_creates_leave_one_server(sim):
    module = _module(sim)
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(
            pool.map(
                lambda _: module.create(CUSTOMER, ServiceRef(service_id=20), PLAN, hostname="h"), range(2)
            )
        )
    assert made[0].external_id == made[1].external_id
    assert len(_assigned(sim)) == 1 and len(sim.clients) == 1


def test_client_create_timeout_is_adopted(sim):
    module = _module(sim)
    sim.inject("create_client", "timeout")
    made = module.create(CUSTOMER, ServiceRef(service_id=21), PLAN, hostname="h")
    assert sim.count("create_client") == 1 and len(sim.clients) == 1
    assert made.customer_external_id == str(next(iter(sim.clients)))
