"""A failed delivery returns the payment exactly once even when two processes run the job at
once (a redelivered message), or both reach the final-failure path (an expired lease).
Real processes, each with its own engine; SQLite and PostgreSQL."""

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from ezscale import clock as clock_module
from ezscale.models.provisioning import JobStatus, ProvisioningJob
from ezscale.models.tenant import CreditEntry, Service, ServiceStatus
from ezscale.services.billing import credits
from ezscale.services.provisioning import jobs
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import tenant_db
from tests.services.provisioning.support import job_ids, virtfusion
from tests.services.provisioning.test_jobs import _order

AT = datetime(2026, 11, 16, tzinfo=UTC)


def _start(mode: str, tenant: TenantInfo, job_id: int) -> subprocess.Popen:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.services.provisioning.race_worker",
            mode,
            str(tenant.id),
            AT.isoformat(),
            str(job_id),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline().strip() == "ready"
    return worker


def _race(*workers: subprocess.Popen) -> list[dict]:
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _assert_returned_once(tenant: TenantInfo, service_id: int) -> None:
    with tenant_db(tenant) as db:
        refunds = db.exec(
            select(CreditEntry).where(CreditEntry.reference == jobs.refund_reference(service_id))
        )
        assert len(refunds.all()) == 1
        service = db.get(Service, service_id)
        assert service.status is ServiceStatus.FAILED
        assert credits.balance_minor(db, user_id=service.user_id, currency="USD") == 10_000
        assert db.exec(select(ProvisioningJob.status)).all() == [JobStatus.FAILED]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["run", "fail"])
def test_two_processes_return_the_payment_once(make_tenant, central, clock, mode):
    clock.set(AT)
    tenant = TenantInfo.of(make_tenant("race"))
    with virtfusion(central) as (sim, _):
        service_id = _order(tenant)
        sim.packages[1]["enabled"] = False  # the panel refuses the package: the job fails at once
        (job_id,) = job_ids(tenant)
        if mode == "fail":  # both hold the job as if each had claimed it (a lease expired)
            with tenant_db(tenant) as db:
                job = db.get(ProvisioningJob, job_id)
                job.status = JobStatus.RUNNING
                db.add(job)
                db.commit()
        results = _race(_start(mode, tenant, job_id), _start(mode, tenant, job_id))
    assert sorted(r["status"] for r in results) == (
        ["failed", "skipped"] if mode == "run" else ["failed", "failed"]
    )
    _assert_returned_once(tenant, service_id)
    assert clock_module.now() == AT
