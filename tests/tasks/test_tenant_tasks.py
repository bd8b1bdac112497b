"""Tenant tasks run on a real Celery worker (the configured broker) inside the right database."""

import logging

import pytest
from celery.contrib.testing.worker import start_worker
from sqlmodel import select

from ezscale.db import central_session, database_exists, tenant_database_url
from ezscale.models.tenant import Plan
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.tasks import celery_app
from ezscale.tasks.tenant_task import TENANT_HEADER, enqueue_for_tenant, tenant_task
from ezscale.tenant_context import TenantLogFilter
from tests.factories import purge


@tenant_task(name="tests.record_marker")
def record_marker(session, tenant, marker: str) -> str:
    session.add(Plan(code=marker, name=f"{tenant.slug}:{marker}"))
    session.commit()
    record = logging.LogRecord("test", logging.INFO, __file__, 0, "marker", None, None)
    TenantLogFilter().filter(record)
    return record.tenant  # the slug the task's log lines carry


def _markers(tenant) -> list[str]:
    with tenant_session(TenantInfo.of(tenant)) as db:
        return sorted(db.exec(select(Plan.code).where(Plan.code.startswith("marker-"))).all())


@pytest.fixture
def worker(platform):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


def test_each_task_runs_against_its_own_tenant_database_and_logs_as_that_tenant(make_tenant, worker):
    alpha, beta = make_tenant("alpha"), make_tenant("beta")
    sent = [
        enqueue_for_tenant(record_marker, tenant.id, f"marker-{n}")
        for n, tenant in enumerate([alpha, beta, alpha, beta, beta])
    ]
    assert [result.get(timeout=60) for result in sent] == ["alpha", "beta", "alpha", "beta", "beta"]
    assert _markers(alpha) == ["marker-0", "marker-2"]
    assert _markers(beta) == ["marker-1", "marker-3", "marker-4"]


def test_a_message_whose_header_names_another_tenant_is_refused(make_tenant, worker):
    alpha, beta = make_tenant("alpha"), make_tenant("beta")
    forged = record_marker.apply_async(args=(alpha.id, "marker-forged"), headers={TENANT_HEADER: beta.id})
    with pytest.raises(Exception, match="carried header tenant"):
        forged.get(timeout=60)
    assert _markers(alpha) == [] and _markers(beta) == []


def test_an_unknown_tenant_id_is_refused(make_tenant, worker):
    make_tenant("alpha")
    with pytest.raises(Exception, match="No tenant with id 999"):
        enqueue_for_tenant(record_marker, 999, "marker-x").get(timeout=60)


def test_a_task_for_a_tenant_purged_after_it_was_sent_does_nothing(make_tenant, platform):
    alpha, gone = make_tenant("alpha"), make_tenant("gone")
    with central_session() as central:
        purge(central, "gone")
    assert record_marker.apply(args=(gone.id, "marker-late")).get() is None  # never connects
    assert not database_exists(tenant_database_url(gone.database_name))
    assert record_marker.apply(args=(alpha.id, "marker-live")).get() == "alpha"
