"""The VirtFusion client and module against the loopback simulator: the full lifecycle, adoption
after a lost reply, duplicates, capacity gone between check and create, retries, bad replies."""

from datetime import UTC, datetime, timedelta

import pytest

from ezscale import clock as clock_module
from ezscale.services.provisioning.module import (
    BuildState,
    Customer,
    GoneFromPanel,
    NeedsStaff,
    OutOfStock,
    PanelBusy,
    PanelConfig,
    PanelRejected,
    PanelUnavailable,
    PlanMapping,
    PowerAction,
    ServiceRef,
)
from ezscale.services.provisioning.virtfusion import VirtFusionModule
from ezscale.services.provisioning.virtfusion_client import VirtFusionClient
from ezscale.simulators.virtfusion import VirtFusionSimulator, serve

CUSTOMER = Customer(id=7, email="pat@example.test", name="Pat")
PLAN = PlanMapping("1", {"group": "1", "ipv4": "1", "os": "2"})


@pytest.fixture
def frozen():
    return clock_module.FrozenClock(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def sim(frozen):
    simulator = VirtFusionSimulator(clock=frozen.now, hang_seconds=1.2)
    running = serve(simulator)
    simulator.url = running.url
    yield simulator
    running.stop()


def _module(sim, timeout: float = 0.5, token: str | None = None) -> VirtFusionModule:
    return VirtFusionModule(PanelConfig("virtfusion", sim.url, {"token": token or sim.token}, {}, timeout))


def test_full_lifecycle(sim, frozen):
    module = _module(sim)
    assert "1 hypervisor group" in module.test_connection()
    before = module.check_capacity(PLAN)
    made = module.create(CUSTOMER, ServiceRef(11), PLAN, hostname="srv11.example.test")
    assert made.state is BuildState.BUILDING and made.ips and made.hostname == "srv11.example.test"
    assert module.check_capacity(PLAN).available == before.available - 1
    ref = ServiceRef(11, made.external_id, made.customer_external_id)
    assert module.status(ref).state is BuildState.BUILDING
    with pytest.raises(PanelBusy):
        module.suspend(ref, reason="building")  # 423 while the build task runs
    frozen.advance(timedelta(seconds=5))
    assert module.status(ref).state is BuildState.READY
    for action in module.power_actions:
        module.power(ref, action)
    (traffic,) = module.usage(ref)
    assert traffic.unit == "bytes" and traffic.limit == 2000 * 10**9
    assert {c.name for c in module.os_choices(ref)} >= {"Debian 12", "Ubuntu 24.04"}
    assert "/token_login?token_1=" in module.sso_url(CUSTOMER, ref)
    module.change_package(ref, PlanMapping("2"))
    assert sim.servers[int(made.external_id)].memory == 4096
    module.suspend(ref, reason="overdue")
    assert module.status(ref).state is BuildState.SUSPENDED
    module.unsuspend(ref)
    assert module.status(ref).state is BuildState.READY
    assert module.reinstall(ref, "3").state is BuildState.BUILDING
    frozen.advance(timedelta(seconds=5))
    module.terminate(ref)
    assert sim.live_servers() == []
    assert module.check_capacity(PLAN).available == before.available
    with pytest.raises(GoneFromPanel):
        module.terminate(ref)
    with pytest.raises(GoneFromPanel):
        module.suspend(ref, reason="gone")


def test_create_again_adopts_instead_of_duplicating(sim):
    module = _module(sim)
    first = module.create(CUSTOMER, ServiceRef(11), PLAN, hostname="a")
    again = module.create(CUSTOMER, ServiceRef(11), PLAN, hostname="a")
    assert again.external_id == first.external_id
    assert sim.count("POST /servers") == 1 and sim.count("POST /users") == 1
    assert module.find(CUSTOMER, ServiceRef(11)).external_id == first.external_id


def test_timeout_after_success_is_adopted(sim):
    module = _module(sim)
    sim.inject("POST /servers", "timeout_after_success")
    with pytest.raises(PanelUnavailable, match="did not answer in time"):
        module.create(CUSTOMER, ServiceRef(12), PLAN, hostname="b")
    left = module.find(CUSTOMER, ServiceRef(12))
    assert left is not None and len(sim.live_servers()) == 1
    done = module.create(CUSTOMER, ServiceRef(12), PLAN, hostname="b")
    assert done.external_id == left.external_id
    assert sim.count("POST /servers") == 1 and len(sim.live_servers()) == 1
    assert sim.live_servers()[0].name == "ezscale-12"


def test_build_timeout_hands_back_the_server_made(sim):
    module = _module(sim)
    sim.inject("POST /servers/{id}/build", "timeout")  # hangs before building: nothing to adopt
    with pytest.raises(PanelUnavailable) as caught:
        module.create(CUSTOMER, ServiceRef(13), PLAN, hostname="c")
    assert caught.value.partial is not None
    ref = ServiceRef(13, caught.value.partial.external_id)
    assert module.create(CUSTOMER, ref, PLAN, hostname="c").external_id == ref.external_id
    assert sim.count("POST /servers/{id}/build") == 2 and len(sim.live_servers()) == 1


def test_hung_build_is_adopted_by_a_look_up_while_it_hangs(sim):
    module = _module(sim)
    for _ in range(5):  # the panel's typical answer is learned: a late create is looked up soon
        module.check_capacity(PLAN)
    sim.inject("POST /servers/{id}/build", "timeout_after_success")
    made = module.create(CUSTOMER, ServiceRef(16), PLAN, hostname="h")  # no timeout: adopted
    assert made.state is BuildState.BUILDING and made.extra["name"] == "ezscale-16"
    assert sim.count("POST /servers/{id}/build") == 1 and len(sim.live_servers()) == 1


def test_user_with_same_email_but_no_link_needs_staff(sim):
    sim.users[99] = dict(id=99, extRelationId=None, name="Old", email=CUSTOMER.email, suspended=False)
    with pytest.raises(NeedsStaff, match="not linked"):
        _module(sim).create(CUSTOMER, ServiceRef(14), PLAN, hostname="d")
    assert sim.live_servers() == []


def test_capacity_exhausted_between_check_and_create(sim):
    module = _module(sim)
    assert module.check_capacity(PLAN).in_stock
    sim.inject("POST /servers", "exhaust")
    with pytest.raises(OutOfStock, match="No capacity"):
        module.create(CUSTOMER, ServiceRef(15), PLAN, hostname="e")
    assert sim.live_servers() == []
    assert module.check_capacity(PLAN).available == 0


def test_capacity_counts_memory_cores_storage_and_ipv4(sim):
    sim.groups.clear()
    sim.add_group(1, "Small", hypervisors=2, memory_mb=4096, cores=64, storage_gb=1000, ipv4=3)
    module = _module(sim)
    assert module.check_capacity(PLAN).available == 3  # 2 per hypervisor by memory, 3 IPv4 in the pool
    assert module.check_capacity(PlanMapping("1", {"group": "1", "ipv4": "2"})).available == 1
    assert module.check_capacity(PlanMapping("1", {"group": "1", "buffer_percent": "50"})).available == 2
    sim.packages[1]["enabled"] = False
    assert module.check_capacity(PLAN).available == 0


def test_server_errors_are_retried_only_for_safe_calls(sim):
    client = VirtFusionClient(sim.url, sim.token, timeout=0.5, create_timeout=0.5)
    sim.inject("GET /packages/{id}", "500", "500")
    assert client.package(1)["id"] == 1
    assert sim.count("GET /packages/{id}") == 3
    sim.inject("GET /packages/{id}", "500", "500", "500")
    with pytest.raises(PanelUnavailable, match="HTTP 500"):
        client.package(1)
    user = client.create_user(ext_id=1, name="A", email="a@example.test")
    sim.inject("POST /servers", "500")
    with pytest.raises(PanelUnavailable):
        client.create_server(package_id=1, user_id=user["id"], group_id=1, ipv4=1)
    assert sim.count("POST /servers") == 1  # never repeated by the client
    client.close()


def test_malformed_and_refused_replies_are_clear(sim):
    module = _module(sim)
    sim.inject("GET /connect", "malformed", "malformed", "malformed")
    with pytest.raises(PanelUnavailable, match="malformed"):
        module.test_connection()
    with pytest.raises(PanelRejected, match="refused our API token"):
        _module(sim, token="wrong").test_connection()
    with pytest.raises(PanelRejected, match="package id is invalid"):
        module.create(CUSTOMER, ServiceRef(16), PlanMapping("999", {"group": "1"}), hostname="f")
    with pytest.raises(PanelRejected, match="no API token"):
        VirtFusionModule(PanelConfig("virtfusion", sim.url, {}))


def test_unknown_power_action_is_refused(sim):
    made = _module(sim).create(CUSTOMER, ServiceRef(17), PLAN, hostname="g")
    with pytest.raises(PanelRejected):
        _module(sim).power(ServiceRef(17, made.external_id), PowerAction.KILL)
