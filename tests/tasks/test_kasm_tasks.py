"""Kasm tasks run through Celery's machinery (in-process `apply`), against the simulator."""

from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa
from celery.contrib.testing.worker import start_worker
from sqlmodel import Session, select

from ezscale import clock as clock_module
from ezscale.db import database_exists, tenant_database_url
from ezscale.models.kasm import KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import Plan
from ezscale.services.kasm import signal as kasm_signal
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.catalogue import seed_catalogue, templates
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from ezscale.simulators.kasm import KasmSimulator, serve
from ezscale.tasks import celery_app
from ezscale.tasks.kasm import converge_workspace, guard_tenant, reconcile_all
from ezscale.tasks.tenant_task import TENANT_HEADER
from tests.factories import break_database, customer_with_credit, purge


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
        user = customer_with_credit(db, "t@example.test", 1000)
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


def test_reconcile_goes_on_past_a_broken_tenant_and_never_visits_a_purged_one(
    make_tenant, central, sim, clock
):
    broken = make_tenant("broken")
    purged = make_tenant("purged")
    tenant = TenantInfo.of(make_tenant("acme"))
    workspace_id = _order(tenant, clock)
    converge_workspace.apply(args=(tenant.id, workspace_id), headers={TENANT_HEADER: tenant.id}).get()
    break_database(broken.database_name)
    purge(central, "purged")
    clock.advance(timedelta(minutes=20))
    sim.stop_outside(next(iter(sim.kasms)))

    assert reconcile_all.apply().get() == 1  # the broken tenant, visited first, is skipped
    assert _status(tenant, workspace_id) is WorkspaceStatus.STOPPED
    assert not database_exists(tenant_database_url(purged.database_name))  # not even connected to


@pytest.mark.slow  # a Celery worker, and Redis
def test_a_worker_announces_workspace_changes_once_started(make_tenant, sim, clock, redis_url):
    for event, listener in kasm_signal.LISTENERS:  # as in a fresh process: nothing installed yet
        if sa.event.contains(Session, event, listener):
            sa.event.remove(Session, event, listener)
    tenant = TenantInfo.of(make_tenant("acme"))
    workspace_id = _order(tenant, clock)
    pubsub = redis.Redis.from_url(redis_url).pubsub()
    pubsub.subscribe(kasm_signal.CHANNEL)
    assert pubsub.get_message(timeout=10)["type"] == "subscribe"
    clock.advance(timedelta(seconds=1))  # so that starting it moves the workspace's changed_at
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        assert kasm_signal.installed()
        sent = converge_workspace.apply_async(
            args=(tenant.id, workspace_id), headers={TENANT_HEADER: tenant.id}
        )
        assert sent.get(timeout=60) == "done"
    changes = []
    while (message := pubsub.get_message(ignore_subscribe_messages=True, timeout=10)) is not None:
        change = kasm_signal.Change.decode(message["data"].decode())
        if change.database == tenant.database_name:
            changes.append(change)
        if changes and changes[-1].at == _changed_at(tenant, workspace_id):
            break
    assert {change.key for change in changes} == {f"w{workspace_id}"}
    assert changes[-1].at == _changed_at(tenant, workspace_id)


def _changed_at(tenant: TenantInfo, workspace_id: int):
    with tenant_session(tenant) as db:
        return db.get(KasmWorkspace, workspace_id).changed_at
