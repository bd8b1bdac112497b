"""The Enhance module and client against the loopback API: lifecycle, adoption by tag after a
duplicate or a lost reply, e-mail already in the realm, resources gone at create, retries."""

import httpx
import pytest

from ezscale.services.provisioning.enhance import EnhanceModule
from ezscale.services.provisioning.module import (
    BuildState,
    Customer,
    GoneFromPanel,
    OutOfStock,
    PanelConfig,
    PanelRejected,
    PanelUnavailable,
    PlanMapping,
    ServiceRef,
)
from ezscale.simulators.enhance import MO_ID, EnhanceSimulator
from ezscale.simulators.rest import serve
from tests.services.provisioning.panel_contract import assert_meets_contract

CUSTOMER = Customer(id=42, email="web@example.com", name="Tim Berners-Lee")
STARTER = PlanMapping(package="1")
BUSINESS = PlanMapping(package="2")


class Clock:
    """A settable clock for the simulator's website set-up."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sim(clock):
    simulator = EnhanceSimulator(build_seconds=20, hang_seconds=1.0, clock=clock)
    server = serve(simulator)
    simulator.url = server.url
    yield simulator
    server.stop()


def _module(sim, **options) -> EnhanceModule:
    return EnhanceModule(
        PanelConfig(
            module="enhance",
            base_url=sim.url if options.pop("panel_root", True) else f"{sim.url}/api",
            credentials={"access_token": options.pop("token", "enhance-demo-token")},
            options={"backoff": "0", "create_timeout_seconds": "0.5", "reseller_org_id": MO_ID} | options,
            timeout_seconds=0.5,
        )
    )


def _live(sim) -> list[dict]:
    return [s for s in sim.subscriptions.values() if s["status"] == "active"]


def test_full_lifecycle(sim, clock):
    module = _module(sim)
    assert "Hosting Co" in module.test_connection()
    stock = module.check_capacity(STARTER)
    assert stock.available is None and stock.in_stock

    made = module.create(CUSTOMER, ServiceRef(service_id=7), STARTER, hostname="Example.org")
    assert made.state is BuildState.BUILDING and made.hostname == "example.org"
    assert made.username == "web@example.com" and made.password
    [sub] = _live(sim)
    assert sub["friendlyName"] == "ezscale-service-7" and sub["planId"] == 1
    org = sim.orgs[made.customer_external_id]
    assert "[ezs-42]" in org["name"]
    [owner] = [m for m in sim.members.values() if m["orgId"] == org["id"]]
    assert owner["roles"] == ["Owner"] and made.extra["member_id"] == owner["id"]

    ref = ServiceRef(
        service_id=7,
        external_id=made.external_id,
        customer_external_id=made.customer_external_id,
        extra=made.extra,
    )
    clock.now = 21
    ready = module.status(ref)
    assert ready.state is BuildState.READY and ready.ips == ("198.51.100.20",)

    link = module.sso_url(CUSTOMER, ref)
    assert link.startswith(f"{sim.url}/sso?token=")
    assert "Signed in as web@example.com" in httpx.get(link).text
    assert httpx.get(link).status_code == 403  # one use only
    sim.sso_plain = True
    assert module.sso_url(CUSTOMER, ref).startswith(f"{sim.url}/sso?token=")
    usage = {m.label: m for m in module.usage(ref)}
    assert usage["Websites"].used == 1 and usage["Websites"].limit == 5
    assert usage["Bandwidth this month"].used == 7_340_032

    module.suspend(ref, reason="overdue")
    assert module.status(ref).state is BuildState.SUSPENDED
    module.unsuspend(ref)
    assert module.status(ref).state is BuildState.READY

    module.change_package(ref, BUSINESS)
    assert sub["planId"] == 2
    with pytest.raises(PanelRejected, match="no plan 99"):
        module.change_package(ref, PlanMapping(package="99"))

    # A second service for the same customer reuses the org and its owner.
    other = module.create(CUSTOMER, ServiceRef(service_id=8), STARTER, hostname="second.example.org")
    assert other.customer_external_id == made.customer_external_id and not other.password
    assert len([o for o in sim.orgs.values() if o["parentId"] == MO_ID]) == 1

    module.terminate(ref)
    assert sub["status"] == "deleted"
    with pytest.raises(GoneFromPanel):
        module.terminate(ref)
    with pytest.raises(GoneFromPanel):
        module.suspend(ref, reason="overdue")
    assert module.find(CUSTOMER, ServiceRef(service_id=7)) is None
    assert module.find(CUSTOMER, ServiceRef(service_id=8)) is not None


def test_duplicate_create_is_adopted(sim):
    module = _module(sim)
    first = module.create(CUSTOMER, ServiceRef(service_id=9), STARTER, hostname="dup.example.org")
    # The caller lost every handle: the tags find the org and the subscription again.
    second = module.create(CUSTOMER, ServiceRef(service_id=9), STARTER, hostname="dup.example.org")
    assert (first.external_id, first.customer_external_id) == (
        second.external_id,
        second.customer_external_id,
    )
    assert len(sim.subscriptions) == 1 and len(sim.websites) == 1 and len(sim.orgs) == 2


def test_email_already_in_the_realm_is_linked(sim):
    module = _module(sim)
    sim.logins["11111111-1111-4111-8111-111111111111"] = dict(
        id="11111111-1111-4111-8111-111111111111", email="web@example.com", name="Tim", realm=MO_ID
    )
    made = module.create(CUSTOMER, ServiceRef(service_id=10), STARTER, hostname="link.example.org")
    [member] = [m for m in sim.members.values() if m["orgId"] == made.customer_external_id]
    assert member["loginId"] == "11111111-1111-4111-8111-111111111111" and not made.password
    assert len(sim.logins) == 1


def test_timeout_after_success_is_adopted_not_repeated(sim):
    module = _module(sim)
    sim.inject("create_subscription", "timeout")
    sim.inject("create_website", "timeout")
    made = module.create(CUSTOMER, ServiceRef(service_id=11), STARTER, hostname="slow.example.org")
    assert sim.count("create_subscription") == 1 and sim.count("create_website") == 1
    assert len(sim.subscriptions) == 1 and len(sim.websites) == 1
    found = module.find(CUSTOMER, ServiceRef(service_id=11))
    assert found is not None and found.external_id == made.external_id


def test_org_create_timeout_is_adopted(sim):
    module = _module(sim)
    sim.inject("create_customer", "timeout")
    made = module.create(CUSTOMER, ServiceRef(service_id=12), STARTER, hostname="org.example.org")
    assert sim.count("create_customer") == 1 and made.customer_external_id in sim.orgs


def test_resources_gone_at_create_is_out_of_stock(sim):
    module = _module(sim)
    assert module.check_capacity(STARTER).in_stock
    sim.inject("create_subscription", "exhausted")
    with pytest.raises(OutOfStock):
        module.create(CUSTOMER, ServiceRef(service_id=13), STARTER, hostname="full.example.org")
    assert sim.subscriptions == {}


def test_website_refused_leaves_no_subscription_and_lost_ids_are_found(sim):
    module = _module(sim)
    sim.inject("create_website", "exhausted")
    with pytest.raises(OutOfStock):
        module.create(CUSTOMER, ServiceRef(service_id=30), STARTER, hostname="none.example.org")
    assert [s["status"] for s in sim.subscriptions.values()] == ["deleted"]
    # A create that fails for good part-way leaves the caller without ids: terminate still finds it.
    sim.inject("create_website", "500", "500")  # the 500 made nothing: sent once more, and refused again
    with pytest.raises(PanelUnavailable):
        module.create(CUSTOMER, ServiceRef(service_id=31), STARTER, hostname="half.example.org")
    module.terminate(ServiceRef(service_id=31))
    assert all(s["status"] == "deleted" for s in sim.subscriptions.values())


def test_domain_hosted_elsewhere_is_rejected(sim):
    module = _module(sim)
    module.create(CUSTOMER, ServiceRef(service_id=14), STARTER, hostname="taken.example.org")
    other = Customer(id=43, email="else@example.com", name="Someone Else")
    with pytest.raises(PanelRejected, match="in use or not allowed"):
        module.create(other, ServiceRef(service_id=15), STARTER, hostname="taken.example.org")
    # The subscription made while the domain was checked is removed: only the first one is live.
    assert [s["id"] for s in sim.subscriptions.values() if s["status"] != "deleted"] == [1]
    assert len(sim.websites) == 1


def test_5xx_is_retried_on_reads_and_a_create_only_after_a_500_that_made_nothing(sim):
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=16), STARTER, hostname="r.example.org")
    ref = ServiceRef(
        service_id=16, external_id=made.external_id, customer_external_id=made.customer_external_id
    )
    before = sim.count("get_subscription")
    sim.inject("get_subscription", "500", "502")
    assert module.status(ref).external_id == made.external_id
    assert sim.count("get_subscription") == before + 3
    # A 500 is the panel's own answer: the look-up finds nothing made, so it is sent once more.
    sim.inject("create_subscription", "500")
    module.create(CUSTOMER, ServiceRef(service_id=17), STARTER, hostname="r2.example.org")
    assert sim.count("create_subscription") == 3 and len(sim.subscriptions) == 2
    # A gateway's 502: the panel may still be working on it, so it is never sent again.
    sim.inject("create_subscription", "502")
    with pytest.raises(PanelUnavailable):
        module.create(CUSTOMER, ServiceRef(service_id=19), STARTER, hostname="r3.example.org")
    assert sim.count("create_subscription") == 4 and len(sim.subscriptions) == 2


def test_malformed_reply_is_refused_clearly(sim):
    module = _module(sim)
    made = module.create(CUSTOMER, ServiceRef(service_id=18), STARTER, hostname="m.example.org")
    ref = ServiceRef(
        service_id=18, external_id=made.external_id, customer_external_id=made.customer_external_id
    )
    sim.inject("get_subscription", "malformed")
    with pytest.raises(PanelUnavailable, match="could not read"):
        module.status(ref)


def test_api_root_or_panel_url_both_work(sim):
    assert "Hosting Co" in _module(sim, panel_root=False).test_connection()
    assert "Hosting Co" in _module(sim).test_connection()


def test_bad_token_and_bad_mapping_are_rejected(sim):
    with pytest.raises(PanelRejected, match="credentials"):
        _module(sim, token="wrong").test_connection()
    with pytest.raises(PanelRejected, match="plan id"):
        _module(sim).check_capacity(PlanMapping(package="starter"))
    with pytest.raises(PanelRejected, match="no plan 99"):
        _module(sim).check_capacity(PlanMapping(package="99"))
    with pytest.raises(PanelRejected, match="reseller org"):
        _module(sim, reseller_org_id="").check_capacity(STARTER)


def test_meets_the_module_contract():
    assert_meets_contract(EnhanceModule)
    assert EnhanceModule.name == "enhance"
