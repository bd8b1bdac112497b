"""The billing task killed mid-run (SIGKILL) and run again bills everything exactly once."""

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from sqlmodel import func, select

from ezscale.models.auth import MailStatus, TenantMail
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import Invoice, InvoiceStatus, Service, Subscription
from ezscale.services.billing import invoices, payments, runs, subscriptions
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.tenancy import TenantInfo
from ezscale.tasks.billing import daily_billing
from tests.services.billing_support import add_card, add_customer, plan, tenant_db

CUSTOMERS = 60
RUN_AT = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)
WORKER = """
import sys
from datetime import datetime
from ezscale import clock
clock.set_clock(clock.FrozenClock(datetime.fromisoformat(sys.argv[2])))
from ezscale.tasks.billing import daily_billing
daily_billing(int(sys.argv[1]))
"""


def _paid(tenant) -> int:
    with tenant_db(tenant) as session:
        return session.exec(
            select(func.count()).select_from(Invoice).where(Invoice.status == InvoiceStatus.PAID)
        ).one()


def test_killed_billing_run_restarts_without_double_billing(make_tenant, clock, stripe_env):
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    tenant = TenantInfo.of(make_tenant("crash"))
    with tenant_db(tenant) as session:
        vps = plan(session, "vps-1")
        for n in range(CUSTOMERS):
            user = add_customer(session, f"c{n}@example.test")
            ensure_profile(session, user_id=user.id, anchor_day=1)
            add_card(session, tenant, user.id)
            service = Service(user_id=user.id, plan_id=vps.id, created_at=clock.now())
            session.add(service)
            session.flush()
            session.add(
                Subscription(
                    user_id=user.id,
                    plan_id=vps.id,
                    service_id=service.id,
                    current_period_start=clock.now(),
                    current_period_end=datetime(2026, 12, 1, tzinfo=UTC),
                    invoiced_through=datetime(2026, 12, 1, tzinfo=UTC),
                    created_at=clock.now(),
                )
            )
        session.commit()

    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(tenant.id), RUN_AT.isoformat()])
    deadline = time.monotonic() + 120
    while _paid(tenant) < CUSTOMERS // 5 and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    paid_when_killed = _paid(tenant)
    assert worker.returncode == -signal.SIGKILL and 0 < paid_when_killed < CUSTOMERS

    clock.set(RUN_AT)
    daily_billing(tenant.id)
    daily_billing(tenant.id)  # and once more for good measure

    with tenant_db(tenant) as session:
        renewals = session.exec(select(Invoice).where(Invoice.billing_key.like("renewal:%"))).all()
        assert len(renewals) == CUSTOMERS and all(i.status is InvoiceStatus.PAID for i in renewals)
        assert sorted(i.number for i in renewals) == [f"INV-{n:06d}" for n in range(1, CUSTOMERS + 1)]
        succeeded = session.exec(
            select(Payment.invoice_id).where(Payment.status == PaymentStatus.SUCCEEDED)
        ).all()
        assert Counter(succeeded) == {i.id: 1 for i in renewals}
        customers = [payments.stripe_customer_id(session, tenant=tenant, user_id=i.user_id) for i in renewals]
        mails = session.exec(select(TenantMail.to_address, TenantMail.status, TenantMail.kind)).all()
    # The killed run committed its invoices but mailed none; the next runs mail each exactly once.
    invoice_mails = [to for to, status, kind in mails if kind == "invoice"]
    assert sorted(invoice_mails) == sorted(f"c{n}@example.test" for n in range(CUSTOMERS))
    assert {status for _, status, _ in mails} == {MailStatus.OUTBOX}
    client = gateway().client
    for customer in customers:
        charges = client.v1.charges.list({"customer": customer}).data
        assert [c.amount for c in charges] == [600], customer


def test_invoices_of_a_run_killed_after_its_commit_are_mailed_once(make_tenant, clock):
    """The invoice mail is written with the invoice: the run died before mailing, the next mails."""
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    tenant = TenantInfo.of(make_tenant("outbox"))
    with tenant_db(tenant) as session:
        user = add_customer(session, "pat@example.test")
        ensure_profile(session, user_id=user.id, anchor_day=1)
        subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        clock.set(datetime(2026, 11, 24, 6, tzinfo=UTC))
        [renewal_id] = runs.invoice_renewals(session)  # committed; then the worker is killed
        number = session.get(Invoice, renewal_id).number
        [pending] = session.exec(select(TenantMail)).all()
        assert pending.status is MailStatus.PENDING and number in pending.subject
    assert daily_billing(tenant.id)["invoices"] == 0  # nothing new to invoice, but the mail goes
    daily_billing(tenant.id)
    with tenant_db(tenant) as session:
        mails = session.exec(select(TenantMail).where(TenantMail.kind == "invoice")).all()
    assert [(m.to_address, m.status) for m in mails] == [("pat@example.test", MailStatus.OUTBOX)]
    assert number in mails[0].subject and mails[0].from_address and "<html>" in mails[0].html


def test_daily_task_mails_invoices_and_reminders_after_commit(make_tenant, clock):
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    tenant = TenantInfo.of(make_tenant("mails"))
    with tenant_db(tenant) as session:
        user = add_customer(session, "pat@example.test")
        ensure_profile(session, user_id=user.id, anchor_day=1)
        _, order = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        invoices.create_credit_note(
            session, invoice=order, amount_minor=order.total_minor, reason="free first month"
        )
    clock.set(datetime(2026, 11, 24, 6, tzinfo=UTC))  # renewal invoiced 7 days ahead
    first = daily_billing(tenant.id)
    clock.set(datetime(2026, 11, 28, 6, tzinfo=UTC))  # 3 days before it is due
    second = daily_billing(tenant.id)
    assert first["invoices"] == 1 and second["invoices"] == 0
    with tenant_db(tenant) as session:
        mails = session.exec(select(TenantMail).order_by(TenantMail.id)).all()
    assert [(m.kind, m.to_address) for m in mails] == [
        ("invoice", "pat@example.test"),
        ("billing_reminder", "pat@example.test"),
    ]
    assert "INV-000002" in mails[0].subject
