"""Provisioning on a real Celery worker: the paid order's job is sent after the commit, runs,
re-enqueues itself while the panel builds, and the service turns active; the sweep finds jobs
whose message was lost; the critical queue is routed and consumed."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from sqlmodel import select

from ezscale.cli import _provisioning_worker_command, _worker_command
from ezscale.models.provisioning import ProvisioningJob
from ezscale.models.tenant import Service, ServiceStatus
from ezscale.services.billing import orders
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings
from ezscale.tasks import celery_app
from ezscale.tasks import provisioning as provisioning_tasks
from ezscale.tasks.app import make_celery
from ezscale.tasks.provisioning import sweep
from tests.factories import customer_with_credit, tenant_db
from tests.services.provisioning.support import virtfusion


def _status(tenant: TenantInfo, service_id: int, want: ServiceStatus, seconds: float = 60) -> ServiceStatus:
    deadline = time.monotonic() + seconds
    while True:
        with tenant_db(tenant) as db:
            status = db.get(Service, service_id).status
        if status is want or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_critical_queue_is_routed_and_consumed(platform, monkeypatch):
    assert make_celery().conf.task_routes["ezscale.tasks.provisioning.run_job"] == {"queue": "critical"}
    command = _worker_command()
    assert command[command.index("-Q") + 1] == "celery" and "-B" in command
    # Deliveries are I/O bound: the critical queue's worker runs many at once, in threads.
    monkeypatch.setenv("EZSCALE_PROVISIONING_WORKERS", "48")
    get_settings.cache_clear()
    try:
        command = _provisioning_worker_command()
    finally:
        get_settings.cache_clear()
    assert command[command.index("-Q") + 1] == "critical" and "-B" not in command
    assert command[command.index("--pool") + 1] == "threads"
    assert command[command.index("--concurrency") + 1] == "48"
    assert command[command.index("-n") + 1] != _worker_command()[_worker_command().index("-n") + 1]


def test_the_embedded_sqlite_broker_is_polled_often(platform, monkeypatch):
    """kombu polls its SQL transport once a second by default: a paid order would wait on it."""
    from kombu.transport import sqlalchemy as sql_transport

    from ezscale.tasks import app as tasks_app

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(sql_transport.Transport, "polling_interval", 1.0)
    get_settings.cache_clear()
    try:
        tasks_app._poll_sqlite_broker_often()
    finally:
        get_settings.cache_clear()
    assert sql_transport.Transport.polling_interval == tasks_app.SQLITE_BROKER_POLL_SECONDS < 0.5


@pytest.mark.slow
def test_a_paid_order_is_delivered_by_the_worker(make_tenant, central, monkeypatch):
    tenant = TenantInfo.of(make_tenant("shop"))
    with (
        virtfusion(central, build_seconds=0.5) as (sim, _),
        start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30),
    ):
        with tenant_db(tenant) as db:
            user = customer_with_credit(db, "pat@example.test", 10_000)
            service_id = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1").service.id
        assert _status(tenant, service_id, ServiceStatus.ACTIVE) is ServiceStatus.ACTIVE
        assert len(sim.live_servers()) == 1
        # A job whose message was lost is found by the sweep.
        with tenant_db(tenant) as db:
            user = customer_with_credit(db, "sam@example.test", 10_000)
            monkeypatch.setattr(provisioning_tasks, "enqueue", lambda *a, **k: None)  # message lost
            service_id = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1").service.id
        assert sweep.delay().get(timeout=60) >= 1
        assert _status(tenant, service_id, ServiceStatus.ACTIVE) is ServiceStatus.ACTIVE
    with tenant_db(tenant) as db:
        assert {j.status.value for j in db.exec(select(ProvisioningJob))} == {"done"}


@pytest.mark.slow
def test_the_threads_pool_delivers_several_orders_once_each(make_tenant, central):
    """The critical queue's worker pool (threads, as `ezscale provisioning-worker` runs it)."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with (
        virtfusion(central, build_seconds=0.5, latency=0.1) as (sim, _),
        start_worker(
            celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
        ),
    ):
        service_ids = []
        with tenant_db(tenant) as db:
            for n in range(4):
                user = customer_with_credit(db, f"c{n}@example.test", 10_000)
                placed = orders.place_order(db, tenant=tenant, user_id=user.id, plan_code="vps-1")
                service_ids.append(placed.service.id)
        for service_id in service_ids:
            assert _status(tenant, service_id, ServiceStatus.ACTIVE) is ServiceStatus.ACTIVE
        assert len(sim.live_servers()) == 4 and sim.count("POST /servers") == 4
    with tenant_db(tenant) as db:
        assert {j.status.value for j in db.exec(select(ProvisioningJob))} == {"done"}
