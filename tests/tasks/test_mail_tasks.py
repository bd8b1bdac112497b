"""SMTP delivery runs in a real Celery worker after the outbox row is committed."""

import time

import pytest
from celery.contrib.testing.worker import start_worker

from ezscale.services.core import mail
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.tasks import celery_app
from tests.services.core.test_mail import smtp_server  # noqa: F401  (fixture)


@pytest.fixture
def worker(platform, smtp_server):  # noqa: F811
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield smtp_server


def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.1)


def test_tenant_and_platform_mail_are_delivered_by_the_worker(make_tenant, worker):
    acme = TenantInfo.of(make_tenant("acme", name="Acme Hosting"))
    mail.send_mail(tenant=acme, to="ann@example.com", subject="Tenant mail", text="Hello Ann")
    mail.send_mail(tenant=None, to="ops@example.com", subject="Platform mail", text="Hello ops")
    _wait_for(lambda: len(worker.envelopes) == 2)
    assert sorted(e.rcpt_tos[0] for e in worker.envelopes) == ["ann@example.com", "ops@example.com"]
    _wait_for(lambda: mail.list_outbox(tenant=acme)[0].status == "sent")
    _wait_for(lambda: mail.list_outbox(tenant=None)[0].status == "sent")
