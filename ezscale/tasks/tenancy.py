"""Tenant lifecycle tasks."""

from ezscale.db import central_session
from ezscale.services.resellers.lifecycle import purge_deleted as purge_deleted_service
from ezscale.services.tenancy.domains import check_certificates
from ezscale.services.tenancy.tenants import expire_trials as expire_trials_service
from ezscale.tasks.app import celery_app


@celery_app.task(name="ezscale.tasks.tenancy.expire_trials")
def expire_trials() -> list[str]:
    """Suspend resellers whose trial has ended; safe to run any number of times."""
    with central_session() as session:
        return expire_trials_service(session)


@celery_app.task(name="ezscale.tasks.tenancy.purge_deleted")
def purge_deleted() -> list[str]:
    """Drop the databases of resellers whose deletion grace period is over."""
    with central_session() as session:
        return purge_deleted_service(session)


@celery_app.task(name="ezscale.tasks.tenancy.check_tls")
def check_tls() -> dict[str, str]:
    """Fetch every verified custom domain over HTTPS and record whether its certificate is served."""
    with central_session() as session:
        return check_certificates(session)
