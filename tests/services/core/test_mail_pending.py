"""Mail written in a business transaction (pending) goes out once, however many dispatchers run
at the same time (real processes), and only if that transaction committed."""

import subprocess
import sys

from sqlmodel import select

from ezscale.models.auth import MailStatus, TenantMail
from ezscale.services.core import mail
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

MAILS = 40
WORKER = """
import sys
from ezscale.services.core import mail
from ezscale.services.tenancy.tenants import tenant_info
tenant = tenant_info(int(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
print(mail.dispatch_pending(tenant), flush=True)
"""


def _write(tenant: TenantInfo, count: int, *, commit: bool) -> None:
    with tenant_session(tenant) as session:
        mail.write_pending(
            session,
            [
                mail.PendingMail(to=f"c{n}@example.test", subject=f"Invoice {n}", text="Due.", kind="invoice")
                for n in range(count)
            ],
        )
        if commit:
            session.commit()


def test_pending_mail_exists_only_with_its_transaction(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("pend"))
    _write(tenant, 3, commit=False)  # rolled back with the invoice it announced
    assert mail.dispatch_pending(tenant) == 0
    _write(tenant, 1, commit=True)
    assert mail.dispatch_pending(tenant) == 1 and mail.dispatch_pending(tenant) == 0
    [sent] = mail.list_outbox(tenant=tenant)
    assert sent.status == MailStatus.OUTBOX and sent.sender and "Due." in sent.html


def test_concurrent_dispatchers_send_each_pending_mail_once(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("pend"))
    _write(tenant, MAILS, commit=True)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tenant.id)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    claimed = [int(worker.communicate(timeout=120)[0].strip()) for worker in workers]
    assert sum(claimed) == MAILS
    with tenant_session(tenant) as session:
        statuses = session.exec(select(TenantMail.status)).all()
    assert statuses == [MailStatus.OUTBOX] * MAILS
