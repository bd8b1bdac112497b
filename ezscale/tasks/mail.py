"""SMTP delivery of outbox messages, retried with backoff on connection errors."""

import smtplib
from typing import Any

from sqlmodel import Session

from ezscale.db import central_session
from ezscale.services.core import mail
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.tasks.app import celery_app
from ezscale.tasks.tenant_task import enqueue_for_tenant, tenant_task

_RETRY: dict[str, Any] = dict(
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=mail.MAX_ATTEMPTS,
)


@tenant_task(name="ezscale.tasks.mail.deliver_tenant_mail", **_RETRY)
def deliver_tenant_mail(session: Session, tenant: TenantInfo, mail_id: int) -> bool:
    """Send one queued tenant mail; SMTP failures retry with back-off up to MAX_ATTEMPTS."""
    return mail.deliver(session, mail_id=mail_id)


@celery_app.task(name="ezscale.tasks.mail.deliver_platform_mail", **_RETRY)
def deliver_platform_mail(mail_id: int) -> bool:
    """Send one queued platform (central database) mail, retried like tenant mail."""
    with central_session() as session:
        return mail.deliver(session, mail_id=mail_id, platform=True)


def enqueue_delivery(tenant: TenantInfo | None, mail_id: int) -> None:
    """Called after the outbox row is committed."""
    if tenant is None:
        deliver_platform_mail.delay(mail_id)
    else:
        enqueue_for_tenant(deliver_tenant_mail, tenant.id, mail_id)
