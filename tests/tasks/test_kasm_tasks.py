"""Kasm tasks run through Celery's machinery (in-process `apply`), against the simulator."""

from datetime import timedelta

import pytest
from sqlmodel import select

from ezscale import clock as clock_module
from ezscale.models.kasm import KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import CreditEntry, CreditKind, Plan, User
from ezscale.services import kasm
from ezscale.services.kasm_catalogue import seed_catalogue, templates
from ezscale.services.tenancy import TenantInfo, tenant_session
from ezscale.settings import get_settings
from ezscale.simulators.kasm import KasmSimulator, serve
from ezscale.tasks.kasm import converge_workspace, guard_tenant, reconcile_all
from ezscale.tasks.tenant_task import TENANT_HEADER


@pytest.fixture
def sim(monkeypatch, clock):
    simulator = KasmSimulator(provision_seconds=0, clock=clock_module.now)
    server = serve(simulator)
    monkeypatch.setenv("KASM_API_URL", server.url)
    get_settings.cache_clear()
    yield simulator
    server.stop()


def _order(tenant: TenantInfo, clock) -> int:
    with tenant_session(tenant) as db:
        seed_catalogue(db)
        user = User(email="t@example.test", password_hash="x", created_at=clock.now())
        db.add(user)
        db.flush()
        db.add(
            CreditEntry(
                user_id=user.id,
                kind=CreditKind.TOP_UP,
                amount_minor=1000,
                currency="USD",
                created_at=clock.now(),
            )
        )
        db.commit()
        plan = db.exec(select(Plan).where(Plan.code == "kasm-biz-basic")).one()
        return kasm.order_workspace(db, user_id=user.id, plan_id=plan.id, template_id=templates(db)[0].id).id


def _status(tenant: TenantInfo, workspace_id: int) -> WorkspaceStatus:
    with tenant_session(tenant) as db:
        return db.get(KasmWorkspace, workspace_id).status


def test_converge_then_reconcile_an_outside_stop(make_tenant, sim, clock):
    tenant = TenantInfo.of(make_tenant("acme"))
    workspace_id = _order(tenant, clock)
    headers = {TENANT_HEADER: tenant.id}
    assert converge_workspace.apply(args=(tenant.id, workspace_id), headers=headers).get() == "done"
    assert _status(tenant, workspace_id) is WorkspaceStatus.RUNNING
    clock.advance(timedelta(minutes=20))
    sim.stop_outside(next(iter(sim.kasms)))
    assert reconcile_all.apply().get() == 1
    assert reconcile_all.apply().get() == 0  # nothing left to close
    assert _status(tenant, workspace_id) is WorkspaceStatus.STOPPED


def test_guard_keeps_running_workspaces_alive(make_tenant, sim, clock):
    tenant = TenantInfo.of(make_tenant("acme"))
    workspace_id = _order(tenant, clock)
    converge_workspace.apply(args=(tenant.id, workspace_id), headers={TENANT_HEADER: tenant.id}).get()
    kasm_id = next(iter(sim.kasms))
    clock.advance(timedelta(minutes=30))
    assert guard_tenant.apply(args=(tenant.id,), headers={TENANT_HEADER: tenant.id}).get() == 0
    assert sim.kasms[kasm_id].keepalive == clock.now()
