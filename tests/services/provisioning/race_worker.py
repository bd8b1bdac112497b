"""A separate process for the provisioning race tests: its own interpreter and database engine.

    python -m tests.services.provisioning.race_worker MODE TENANT_ID CLOCK JOB_ID

It prints "ready", waits for a line on stdin (so both racers start at once), then `run` runs the
job as a delivered task would, or `fail` goes straight to the final-failure path (as two workers
would once a lease expired under a stalled run), and prints one JSON line.
"""

import json
import sys
from datetime import datetime

from ezscale import clock


def main(mode: str, tenant_id: int, at: str, job_id: int) -> dict:
    from ezscale.models.provisioning import ProvisioningJob
    from ezscale.models.tenant import Plan, Service
    from ezscale.services.provisioning import jobs
    from ezscale.services.provisioning.handles import handle_of
    from ezscale.services.tenancy.tenants import tenant_info, tenant_session

    clock.set_clock(clock.FrozenClock(datetime.fromisoformat(at)))
    tenant = tenant_info(tenant_id)
    with tenant_session(tenant) as db:
        db.connection()  # connected before the start signal
        print("ready", flush=True)
        sys.stdin.readline()
        if mode == "run":
            return {"status": jobs.run_job(db, tenant=tenant, job_id=job_id).status}
        job = db.get(ProvisioningJob, job_id)
        service = db.get(Service, job.service_id)
        module = jobs._panel_for(db.get(Plan, service.plan_id).code)[0]
        jobs._fail(db, tenant, job, service, handle_of(db, service.id), module, "test failure")
        return {"status": db.get(ProvisioningJob, job_id, populate_existing=True).status.value}


if __name__ == "__main__":
    mode, tenant_id, at, job_id = sys.argv[1:5]
    print(json.dumps(main(mode, int(tenant_id), at, int(job_id))), flush=True)
