"""Customer self-service through the module contract, against the VirtFusion simulator: power,
SSO, reinstall and usage only where the module offers them, never on another customer's service,
and credentials revealed on demand with an audit row and a timeline entry."""

from collections.abc import Iterator
from typing import ClassVar

import pytest
from sqlmodel import select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import BillingEvent
from ezscale.models.provisioning import ServiceHandle
from ezscale.models.tenant import Service, ServiceStatus
from ezscale.services.accounts.sessions import AuthRole, AuthUser
from ezscale.services.provisioning import panels, registry, self_service, view
from ezscale.services.provisioning.handles import panel_key
from ezscale.services.provisioning.module import Capability, Customer, PlanMapping, PowerAction, ServiceRef
from ezscale.services.provisioning.virtfusion import VirtFusionModule
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.simulators.virtfusion import VirtFusionSimulator, serve
from tests.actors import admin, audit_trail
from tests.factories import add_customer, plan, tenant_db


class PowerOnlyVirtFusion(VirtFusionModule):
    """A VirtFusion panel whose product offers power and nothing else (how a module without SSO,
    reinstall or usage looks to the customer)."""

    name: ClassVar[str] = "vf-power-only"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.POWER})
    power_actions: ClassVar[tuple[PowerAction, ...]] = (PowerAction.REBOOT,)


MODULE = PowerOnlyVirtFusion


@pytest.fixture
def panel() -> Iterator[VirtFusionSimulator]:
    sim = VirtFusionSimulator(build_seconds=0)
    running = serve(sim)
    sim.url = running.url
    yield sim
    running.stop()


def _actor(tenant: TenantInfo, user) -> AuthUser:
    return AuthUser(id=user.id, tenant_id=tenant.id, email=user.email, name=user.name, role=AuthRole.CUSTOMER)


def _delivered(session, tenant, sim, *, module: str = "virtfusion", email="owner@example.test"):
    """A customer's active VPS, built on the simulated panel, with its handle stored."""
    user = add_customer(session, email)
    service = Service(
        user_id=user.id, plan_id=plan(session, "vps-1").id, label="My VPS", created_at=clock.now()
    )
    service.status = ServiceStatus.ACTIVE
    session.add(service)
    session.commit()
    with central_session() as central:
        row = panels.create_panel(
            central,
            module=module,
            label=f"VF {email}",
            base_url=sim.url,
            credentials={"token": sim.token},
            actor=admin(),
        )
        built = registry.panel_module(central, row.id).create(
            Customer(panel_key(session, user.id), user.email, user.name),
            ServiceRef(panel_key(session, service.id)),
            PlanMapping("1"),
            hostname="vps.test",
        )
    session.add(
        ServiceHandle(
            service_id=service.id,
            panel_id=row.id,
            module=module,
            external_id=built.external_id,
            customer_external_id=built.customer_external_id,
            hostname=built.hostname,
            ips=",".join(built.ips),
            username="root",
            password="s3cret-pass",
            updated_at=clock.now(),
        )
    )
    session.commit()
    return user, service


def test_power_sso_usage_and_reinstall_reach_the_panel(make_tenant, panel):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _delivered(session, tenant, panel)
        actor = _actor(tenant, user)
        page = view.service_page(session, user_id=user.id, service_id=service.id)
        assert page.capabilities == ["change_package", "power", "reinstall", "sso", "usage"]
        assert [b.action for b in page.power] == ["boot", "reboot", "shutdown", "power_off"]
        assert page.ips and page.hostname == "vps.test" and page.has_login

        said = self_service.power(session, actor=actor, service_id=service.id, action="reboot", ip="5.6.7.8")
        assert said == "Reboot sent"
        assert panel.count("POST /servers/{id}/power/restart") == 1
        url = self_service.sso_url(session, actor=actor, service_id=service.id)
        assert url.startswith(panel.url + "/")
        [metric] = self_service.usage(session, user_id=user.id, service_id=service.id)
        assert metric.label == "Traffic this month"
        choices = self_service.os_choices(session, user_id=user.id, service_id=service.id)
        assert [c.name for c in choices][:2] == ["Debian 12", "Ubuntu 24.04"]
        with pytest.raises(DomainError, match="Choose an operating system"):
            self_service.reinstall(session, actor=actor, service_id=service.id, os_id="99")
        said = self_service.reinstall(session, actor=actor, service_id=service.id, os_id="2")
        assert said == "reinstall with Ubuntu 24.04 started"
        kinds = list(session.exec(select(BillingEvent.kind).where(BillingEvent.user_id == user.id)))
        assert kinds == ["power", "reinstall"]
    assert [(t, a, ip) for _, _, t, a, ip in audit_trail("service.power")] == [
        (f"service:{service.id}", {"what": "Reboot sent"}, "5.6.7.8")
    ]
    assert len(audit_trail("service.sso")) == 1


def test_actions_the_module_does_not_offer_do_not_exist(make_tenant, panel, monkeypatch):
    monkeypatch.setitem(registry.MODULES, "vf-power-only", __name__)
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _delivered(session, tenant, panel, module="vf-power-only")
        actor = _actor(tenant, user)
        page = view.service_page(session, user_id=user.id, service_id=service.id)
        assert (page.capabilities, [b.action for b in page.power]) == (["power"], ["reboot"])
        refused = [
            lambda: self_service.sso_url(session, actor=actor, service_id=service.id),
            lambda: self_service.usage(session, user_id=user.id, service_id=service.id),
            lambda: self_service.os_choices(session, user_id=user.id, service_id=service.id),
            lambda: self_service.reinstall(session, actor=actor, service_id=service.id, os_id="1"),
            lambda: self_service.power(session, actor=actor, service_id=service.id, action="boot"),
            lambda: self_service.power(session, actor=actor, service_id=service.id, action="explode"),
        ]
        for call in refused:
            with pytest.raises(NotFound, match="does not offer that action"):
                call()
    built = panel.count("POST /servers/{id}/build")
    assert built == 1  # only the delivery's build: no reinstall, power, login link or traffic call
    assert not [c for c in panel.calls if "/power/" in c or "AuthenticationTokens" in c or "traffic" in c]
    assert audit_trail("service.") == []


def test_another_customers_service_is_not_found(make_tenant, panel):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        _, service = _delivered(session, tenant, panel)
        stranger = _actor(tenant, add_customer(session, "stranger@example.test"))
        calls = [
            lambda: self_service.power(session, actor=stranger, service_id=service.id, action="reboot"),
            lambda: self_service.sso_url(session, actor=stranger, service_id=service.id),
            lambda: self_service.reveal_credentials(session, actor=stranger, service_id=service.id),
            lambda: self_service.reinstall(session, actor=stranger, service_id=service.id, os_id="1"),
            lambda: self_service.usage(session, user_id=stranger.id, service_id=service.id),
        ]
        for call in calls:
            with pytest.raises(NotFound, match="No such service"):
                call()
    assert panel.count("POST /servers/{id}/power/restart") == 0
    assert audit_trail("service.") == []


def test_credentials_are_revealed_on_demand_and_audited(make_tenant, panel):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _delivered(session, tenant, panel)
        stored = session.exec(select(ServiceHandle)).one()
        raw = session.connection().exec_driver_sql("SELECT password FROM service_handles").scalar_one()
        assert "s3cret-pass" not in raw  # encrypted at rest
        login = self_service.reveal_credentials(
            session, actor=_actor(tenant, user), service_id=service.id, ip="9.9.9.9"
        )
        assert (
            (login.username, login.password) == ("root", "s3cret-pass") == (stored.username, stored.password)
        )
        event = session.exec(select(BillingEvent).where(BillingEvent.kind == "credentials_revealed")).one()
        assert event.message == "My VPS: login details shown"
    [(actor, _, target, _, ip)] = audit_trail("service.credentials_revealed")
    assert (actor, target, ip) == ("owner@example.test", f"service:{service.id}", "9.9.9.9")


def test_actions_wait_until_the_service_is_active(make_tenant, panel):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _delivered(session, tenant, panel)
        service.status = ServiceStatus.SUSPENDED
        session.add(service)
        session.commit()
        with pytest.raises(DomainError, match="This service is suspended"):
            self_service.power(session, actor=_actor(tenant, user), service_id=service.id, action="reboot")
        assert view.service_page(session, user_id=user.id, service_id=service.id).power == []


def test_no_systems_to_reinstall_is_said_clearly(make_tenant, panel, monkeypatch):
    """A panel that offers no operating system (a SynergyCP panel without OS profiles): the
    customer is told so instead of an empty chooser, and nothing is sent to the panel."""
    monkeypatch.setattr(VirtFusionModule, "os_choices", lambda self, service: ())
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _delivered(session, tenant, panel)
        with pytest.raises(DomainError, match="No operating system is offered for reinstalling"):
            self_service.os_choices(session, user_id=user.id, service_id=service.id)
    assert panel.count("POST /servers/{id}/build") == 1  # only the delivery's build
