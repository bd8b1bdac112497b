"""Tenant lifecycle tasks."""

from ezscale.db import central_session
from ezscale.services.tenancy import expire_trials as expire_trials_service
from ezscale.tasks.app import celery_app


@celery_app.task(name="ezscale.tasks.tenancy.expire_trials")
def expire_trials() -> list[str]:
    """Suspend resellers whose trial has ended; safe to run any number of times."""
    with central_session() as session:
        return expire_trials_service(session)
