"""Staff on one service's provisioning: the view of its jobs and log, and retrying a failed
panel action (a failed delivery is not retried: its payment was returned)."""

import pytest
from sqlmodel import select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import JobAction, JobStatus, ProvisioningJob, ServiceHandle
from ezscale.models.tenant import Service, ServiceStatus
from ezscale.services.provisioning import logs, staff
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import admin, audit_trail
from tests.factories import add_customer, plan, tenant_db


def _job(
    session, service_id: int, action: JobAction, status: JobStatus = JobStatus.FAILED
) -> ProvisioningJob:
    now = clock.now()
    job = ProvisioningJob(
        service_id=service_id,
        action=action,
        key=f"{action.value}:{service_id}:test",
        status=status,
        last_error="Panel unreachable",
        next_run_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.commit()
    return job


def _service_on_a_panel(session) -> Service:
    user = add_customer(session)
    service = Service(user_id=user.id, plan_id=plan(session, "vps-1").id, label="Box", created_at=clock.now())
    service.status = ServiceStatus.SUSPENDED
    session.add(service)
    session.commit()
    handle = ServiceHandle(
        service_id=service.id, panel_id=1, module="virtfusion", external_id="9", updated_at=clock.now()
    )
    session.add(handle)
    session.commit()
    return service


def test_a_failed_suspend_is_queued_again_and_audited(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        service = _service_on_a_panel(session)
        failed = _job(session, service.id, JobAction.SUSPEND)
        logs.record(session, service_id=service.id, step="suspend", message="Panel unreachable")
        session.commit()
        view = staff.service_view(session, service_id=service.id)
        assert [(j.action, j.status, j.retryable) for j in view.jobs] == [("suspend", "failed", True)]
        assert [r.step for r in view.log] == ["suspend"]

        said = staff.retry_failed(
            session, service_id=service.id, job_id=failed.id, actor=admin(), ip="1.1.1.1"
        )

        assert said == "The suspend is queued again."
        jobs = session.exec(select(ProvisioningJob).order_by(ProvisioningJob.id)).all()
        assert [(j.action, j.status) for j in jobs] == [
            (JobAction.SUSPEND, JobStatus.FAILED),
            (JobAction.SUSPEND, JobStatus.QUEUED),
        ]
        assert staff.service_view(session, service_id=service.id).log[0].step == "retry"
    [(_, _, target, after, ip)] = audit_trail("provisioning.retry")
    assert (target, after["job"], ip) == (f"service:{service.id}", failed.id, "1.1.1.1")


def test_a_failed_delivery_or_a_queued_job_is_not_retried(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        service = _service_on_a_panel(session)
        delivery = _job(session, service.id, JobAction.PROVISION)
        waiting = _job(session, service.id, JobAction.UNSUSPEND, JobStatus.QUEUED)
        with pytest.raises(DomainError, match="payment was returned"):
            staff.retry_failed(session, service_id=service.id, job_id=delivery.id, actor=admin())
        with pytest.raises(DomainError, match="only failed jobs"):
            staff.retry_failed(session, service_id=service.id, job_id=waiting.id, actor=admin())
        with pytest.raises(NotFound, match="No such job"):
            staff.retry_failed(session, service_id=service.id + 1, job_id=waiting.id, actor=admin())
        assert len(session.exec(select(ProvisioningJob)).all()) == 2
    assert audit_trail("provisioning.retry") == []
