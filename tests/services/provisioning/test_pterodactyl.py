"""The Pterodactyl module and client against the loopback panel: lifecycle, adoption after a
duplicate or a lost reply, capacity gone between check and create, retries, bad replies."""

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import httpx
import pytest

from ezscale.services.provisioning.module import (
    BuildState,
    Customer,
    GoneFromPanel,
    OutOfStock,
    PanelBusy,
    PanelConfig,
    PanelRejected,
    PanelUnavailable,
    PlanMapping,
    PowerAction,
    ServiceRef,
)
from ezscale.services.provisioning.panel_http import client_options
from ezscale.services.provisioning.pterodactyl import PterodactylModule
from ezscale.simulators.pterodactyl import PterodactylSimulator
from ezscale.simulators.rest import serve
from tests.services.provisioning.panel_contract import assert_meets_contract

CUSTOMER = Customer(id=42, email="gamer@example.com", name="Ada Lovelace")
PLAN = PlanMapping(
    package="1/1", options={"memory": "4096", "disk": "20480", "cpu": "200", "databases": "1", "backups": "2"}
)
BIG = PlanMapping(package="1/2", options={"memory": "8192", "disk": "40960", "cpu": "400"})


class Clock:
    """A settable clock for the simulator's installs."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@contextmanager
def _running(clock, hang_seconds: float):
    simulator = PterodactylSimulator(build_seconds=30, hang_seconds=hang_seconds, clock=clock)
    server = serve(simulator)
    simulator.url = server.url
    try:
        yield simulator
    finally:
        server.stop()


@pytest.fixture
def sim(clock):
    with _running(clock, 1.0) as simulator:
        yield simulator


def _module(sim, **credentials) -> PterodactylModule:
    creds = {"application_key": "ptla_demo", "client_key": "ptlc_demo"} | credentials
    return PterodactylModule(
        PanelConfig(
            module="pterodactyl",
            base_url=sim.url,
            credentials=creds,
            options={"backoff": "0", "create_timeout_seconds": "0.5"},
            timeout_seconds=0.5,
        )
    )


def test_full_lifecycle(sim, clock):
    module = _module(sim)
    assert "2 node(s)" in module.test_connection()
    stock = module.check_capacity(PLAN)
    assert stock.in_stock and stock.available == 6  # memory-bound: 16 GiB + 8 GiB nodes, 4 GiB each

    made = module.create(CUSTOMER, ServiceRef(service_id=7), PLAN, hostname="mc.example.com")
    assert made.state is BuildState.BUILDING and made.extra["identifier"]
    [server] = sim.servers.values()
    assert server["external_id"] == "7" and server["limits"]["memory"] == 4096
    assert sim.users[server["user"]]["external_id"] == "42"
    assert sim.users[server["user"]]["username"] == "ezs42"
    ref = ServiceRef(service_id=7, external_id=made.external_id, extra=made.extra)
    assert module.usage(ref) == ()  # installing: the panel answers 409, shown as unavailable
    with pytest.raises(PanelBusy):
        module.power(ref, PowerAction.START)

    clock.now = 31
    ready = module.status(ref)
    assert ready.state is BuildState.READY
    assert ready.ips == ("10.0.1.10",) or ready.ips == ("10.0.2.10",)
    assert ready.ports[0].startswith(ready.ips[0] + ":")

    module.power(ref, PowerAction.START)
    usage = {m.label: m for m in module.usage(ref)}
    assert usage["Memory"].limit == 4096 and usage["Memory"].used > 0
    assert module.sso_url(CUSTOMER, ref) == f"{sim.url}/server/{made.extra['identifier']}"
    assert "mc.example.com" in httpx.get(module.sso_url(CUSTOMER, ref)).text

    module.suspend(ref, reason="overdue")
    assert module.status(ref).state is BuildState.SUSPENDED
    assert module.usage(ref) == ()
    module.unsuspend(ref)
    assert module.status(ref).state is BuildState.READY

    module.change_package(ref, BIG)
    assert server["limits"]["memory"] == 8192 and server["egg"] == 2

    assert {c.id for c in module.os_choices(ref)} == {"1", "2"}
    again = module.reinstall(ref, "1")
    assert again.state is BuildState.BUILDING and server["egg"] == 1

    module.terminate(ref)
    assert sim.servers == {}
    with pytest.raises(GoneFromPanel):
        module.terminate(ref)
    with pytest.raises(GoneFromPanel):
        module.suspend(ServiceRef(service_id=7), reason="overdue")
    assert module.find(CUSTOMER, ServiceRef(service_id=7)) is None


def test_install_failure_is_reported(sim, clock):
    sim.fail_installs = True
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=8), PLAN, hostname="mc")
    clock.now = 31
    failed = module.status(ServiceRef(service_id=8, external_id=made.external_id))
    assert failed.state is BuildState.FAILED and failed.message


@pytest.mark.parametrize("fresh", [False, True], ids=["looked-up-first", "new-to-the-panel"])
def test_duplicate_create_is_adopted_and_existing_email_linked(sim, fresh):
    """Also when the job believed the customer new to the panel (the create is refused, then
    the user looked up)."""
    module = _module(sim)
    # The customer already has a panel account made by hand: same e-mail, no external id.
    sim.users[99] = dict(
        id=99, external_id=None, uuid="u", username="ada", email="gamer@example.com", first_name="Ada",
        last_name="L", language="en", root_admin=False,
    )  # fmt: skip
    first = module.create(replace(CUSTOMER, fresh=fresh), ServiceRef(service_id=9), PLAN, hostname="mc")
    second = module.create(CUSTOMER, ServiceRef(service_id=9), PLAN, hostname="mc")
    assert first.external_id == second.external_id and len(sim.servers) == 1
    assert first.customer_external_id == "99" and sim.users[99]["external_id"] == "42"
    assert len(sim.users) == 1


@pytest.mark.parametrize("fresh", [False, True], ids=["looked-up-first", "new-to-the-panel"])
def test_email_linked_to_another_account_is_refused(sim, fresh):
    module = _module(sim)
    sim.users[99] = dict(
        id=99, external_id="7777", uuid="u", username="ada", email="gamer@example.com", first_name="Ada",
        last_name="L", language="en", root_admin=False,
    )  # fmt: skip
    with pytest.raises(PanelRejected, match="another billing account"):
        module.create(replace(CUSTOMER, fresh=fresh), ServiceRef(service_id=9), PLAN, hostname="mc")
    assert sim.servers == {}


def test_a_customer_new_to_the_panel_is_created_without_a_look_up(sim):
    details = _module(sim).create(
        replace(CUSTOMER, fresh=True), ServiceRef(9, fresh=True), PLAN, hostname="mc"
    )
    assert sim.count("user_by_external") == 0 and sim.count("create_user") == 1
    assert details.password and len(sim.users) == 1 and len(sim.servers) == 1


def test_timeout_after_success_is_adopted_not_repeated(sim):
    module = _module(sim)
    sim.inject("create_server", "timeout")
    made = module.create(CUSTOMER, ServiceRef(service_id=10), PLAN, hostname="mc")
    assert sim.count("create_server") == 1 and len(sim.servers) == 1
    found = module.find(CUSTOMER, ServiceRef(service_id=10))
    assert found is not None and found.external_id == made.external_id
    # A retry of the job (the caller never saw the reply) adopts it too.
    assert (
        module.create(CUSTOMER, ServiceRef(service_id=10), PLAN, hostname="mc").external_id
        == made.external_id
    )
    assert sim.count("create_server") == 1


def test_malformed_create_reply_is_adopted(sim):
    module = _module(sim)
    sim.inject("create_server", "malformed")
    made = module.create(CUSTOMER, ServiceRef(service_id=11), PLAN, hostname="mc")
    assert made.external_id == str(next(iter(sim.servers)))


def test_capacity_gone_between_check_and_create_is_out_of_stock(sim):
    module = _module(sim)
    assert module.check_capacity(PLAN).in_stock
    sim.take_all_allocations()  # someone else bought the last ports
    with pytest.raises(OutOfStock):
        module.create(CUSTOMER, ServiceRef(service_id=12), PLAN, hostname="mc")
    assert sim.servers == {}
    assert not module.check_capacity(PLAN).in_stock
    # A plan bigger than any node is out of stock at the check already.
    huge = PlanMapping(package="1/1", options={"memory": "999999", "disk": "1", "cpu": "100"})
    assert module.check_capacity(huge).available == 0


def test_capacity_counts_free_ports_with_or_without_included_allocations(sim):
    module = _module(sim)
    sim.take_all_allocations()
    sim.add_node("de-fra-3", memory=16384, disk=204800, ports=range(25565, 25568))  # 3 free ports
    assert module.check_capacity(PLAN).available == 3
    assert sim.count("node_allocations") == 0  # one request: the ports came with the nodes
    sim.include_allocations = False  # a panel that leaves them out: each node's are read
    assert module.check_capacity(PLAN).available == 3
    assert sim.count("node_allocations") == len(sim.nodes)


def test_no_viable_node_at_create_is_out_of_stock(sim):
    module = _module(sim)
    sim.inject("create_server", "exhausted")
    with pytest.raises(OutOfStock, match="no"):
        module.create(CUSTOMER, ServiceRef(service_id=13), PLAN, hostname="mc")


def test_5xx_is_retried_on_reads_and_a_create_only_after_a_500_that_made_nothing(sim):
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=14), PLAN, hostname="mc")
    sim.inject("get_server", "500", "502")
    assert (
        module.status(ServiceRef(service_id=14, external_id=made.external_id)).external_id == made.external_id
    )
    assert sim.count("get_server") == 3

    # A 500 is the panel's own answer: the look-up finds nothing made, so it is sent once more.
    sim.inject("create_server", "500")
    module.create(CUSTOMER, ServiceRef(service_id=15), PLAN, hostname="mc")
    assert sim.count("create_server") == 3 and len(sim.servers) == 2
    # A gateway's 502: the panel may still be working on it, so it is never sent again.
    sim.inject("create_server", "502")
    with pytest.raises(PanelUnavailable, match="HTTP 502"):
        module.create(CUSTOMER, ServiceRef(service_id=17), PLAN, hostname="mc")
    assert sim.count("create_server") == 4 and len(sim.servers) == 2


def test_malformed_reply_is_refused_clearly(sim):
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=16), PLAN, hostname="mc")
    sim.inject("get_server", "malformed")
    with pytest.raises(PanelUnavailable, match="could not read"):
        module.status(ServiceRef(service_id=16, external_id=made.external_id))


def test_bad_credentials_and_bad_mapping_are_rejected(sim):
    with pytest.raises(PanelRejected, match="credentials"):
        _module(sim, application_key="ptla_wrong").test_connection()
    with pytest.raises(PanelRejected, match="nest id"):
        _module(sim).check_capacity(PlanMapping(package="paper", options={"memory": "1", "disk": "1"}))
    with pytest.raises(PanelRejected, match="memory"):
        _module(sim).check_capacity(PlanMapping(package="1/1", options={"memory": "lots", "disk": "1"}))
    assert sim.count("create_server") == 0


def test_power_without_client_key_is_rejected(sim, clock):
    module = _module(sim, client_key="")
    made = module.create(CUSTOMER, ServiceRef(service_id=17), PLAN, hostname="mc")
    clock.now = 31
    with pytest.raises(PanelRejected, match="client API key"):
        module.power(ServiceRef(service_id=17, external_id=made.external_id), PowerAction.STOP)


def test_meets_the_module_contract():
    assert_meets_contract(PterodactylModule)
    assert PterodactylModule.name == "pterodactyl"


def test_creates_wait_at_least_a_minute_and_bad_options_are_rejected():
    config = PanelConfig(
        module="pterodactyl", base_url="http://127.0.0.1:1", credentials={}, timeout_seconds=10
    )
    assert client_options(config, "Pterodactyl") == dict(
        timeout=10, create_timeout=60, retries=2, backoff=0.2
    )
    slow = PanelConfig(module="pterodactyl", base_url="http://x", credentials={}, timeout_seconds=90)
    assert client_options(slow, "Pterodactyl")["create_timeout"] == 90
    bad = PanelConfig(module="pterodactyl", base_url="http://x", credentials={}, options={"retries": "many"})
    with pytest.raises(PanelRejected, match="must be numbers"):
        client_options(bad, "Pterodactyl")
    with pytest.raises(PanelRejected, match="not a valid"):
        PterodactylModule(
            PanelConfig(module="pterodactyl", base_url="ftp://panel", credentials={"application_key": "k"})
        ).test_connection()


def test_two_concurrent_creates_leave_one_server(sim):
    module = _module(sim)
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(
            pool.map(
                lambda _: module.create(CUSTOMER, ServiceRef(service_id=20), PLAN, hostname="mc"), range(2)
            )
        )
    assert made[0].external_id == made[1].external_id
    assert len(sim.servers) == 1 and len(sim.users) == 1


def test_rate_limit_is_retried(sim):
    module = _module(sim)
    sim.inject("list_nodes", "429")
    assert "node(s)" in module.test_connection()
    assert sim.count("list_nodes") == 2


def test_user_create_timeout_is_adopted(sim):
    module = _module(sim)
    sim.inject("create_user", "timeout")
    made = module.create(CUSTOMER, ServiceRef(service_id=21), PLAN, hostname="mc")
    assert sim.count("create_user") == 1 and len(sim.users) == 1
    assert made.customer_external_id == str(next(iter(sim.users)))


def test_create_hands_back_the_panel_login_and_sftp_details(sim):
    """A game server's customer signs into the panel as the user we made (with the password we
    set) and uploads over SFTP as `<panel user>.<server id>` on the server's node; a customer the
    panel already knew keeps their own password (none is handed back)."""
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=7), PLAN, hostname="mc.example.com")
    [server] = sim.servers.values()
    node = sim.nodes[server["node"]]
    assert made.username == "ezs42" and len(made.password) >= 16
    assert made.extra["sftp_user"] == f"ezs42.{made.extra['identifier']}"
    assert made.extra["sftp_address"] == f"sftp://{node['fqdn']}:2022"

    again = module.create(CUSTOMER, ServiceRef(service_id=7), PLAN, hostname="mc.example.com")  # a retry
    assert (again.username, again.password, again.extra["sftp_user"]) == (
        "ezs42",
        "",
        made.extra["sftp_user"],
    )
    second = module.create(CUSTOMER, ServiceRef(service_id=8), PLAN, hostname="mc2.example.com")
    assert (second.username, second.password) == ("ezs42", "")  # the same panel user, no new password


@pytest.fixture
def slow(clock):
    """A panel whose faults hang 20 s (longer than any test should wait)."""
    with _running(clock, 20.0) as simulator:
        yield simulator


def _patient_module(sim) -> PterodactylModule:
    """A module with production-like waits: 30 s for a read, 60 s for a create."""
    creds = {"application_key": "ptla_demo", "client_key": "ptlc_demo"}
    return PterodactylModule(
        PanelConfig(module="pterodactyl", base_url=sim.url, credentials=creds, timeout_seconds=30)
    )


def test_hung_create_is_adopted_while_in_flight_never_sent_twice(slow):
    """The panel made the server, then hangs: a look-up while the create is still open finds it
    by our service id and adopts it; the create is neither sent again nor waited for."""
    module = _patient_module(slow)
    for _ in range(5):  # the panel's typical answer (milliseconds) is learned
        module.check_capacity(PLAN)
    slow.inject("create_server", "timeout")
    started = time.monotonic()
    made = module.create(CUSTOMER, ServiceRef(service_id=30), PLAN, hostname="mc")
    assert time.monotonic() - started < 10  # adopted, not the 20 s answer
    assert slow.count("create_server") == 1 and len(slow.servers) == 1
    assert made.external_id == str(next(iter(slow.servers)))


def test_a_read_waits_a_few_typical_answers_then_asks_again(slow):
    """Once the panel's typical answer is known, a read that hangs is abandoned after a few of
    them (not the panel's 30 s timeout) and asked again."""
    module = _patient_module(slow)
    made = module.create(CUSTOMER, ServiceRef(service_id=31), PLAN, hostname="mc")
    ref = ServiceRef(service_id=31, external_id=made.external_id)
    for _ in range(5):
        module.status(ref)
    slow.inject("get_server", "hang")
    before = slow.count("get_server")
    started = time.monotonic()
    assert module.status(ref).external_id == made.external_id
    assert time.monotonic() - started < 10  # the first wait was 0.5 s, not 30 s
    assert slow.count("get_server") == before + 2
