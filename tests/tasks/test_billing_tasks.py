"""The billing task killed mid-run (SIGKILL) and run again bills everything exactly once."""

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from ezscale.models.auth import MailStatus, TenantMail
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import Invoice, InvoiceStatus, User
from ezscale.services.billing import credits, invoices, leases, payments, runs, subscriptions
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.tasks.billing import daily_billing
from tests.factories import add_customer, charges_of, plan, renewing_card_customer, tenant_db

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


def _card_payments(tenant) -> int:
    with tenant_db(tenant) as session:
        return session.exec(
            select(func.count()).select_from(Payment).where(Payment.status == PaymentStatus.SUCCEEDED)
        ).one()


def _credit(n: int) -> int:
    """Customers pay from credit and card together: a third part from credit, a third from
    credit alone, a third by card alone (the plan is 6.00 a month)."""
    return (200, 600, 0)[n % 3]


@pytest.mark.slow  # a worker process, killed mid-run
def test_killed_billing_run_restarts_without_double_billing(make_tenant, clock, stripe_env):
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    tenant = TenantInfo.of(make_tenant("crash"))
    with tenant_db(tenant) as session:
        vps = plan(session, "vps-1")
        for n in range(CUSTOMERS):
            renewing_card_customer(
                session,
                tenant,
                email=f"c{n}@example.test",
                plan=vps,
                renews_at=datetime(2026, 12, 1, tzinfo=UTC),
                credit_minor=_credit(n),
            )
        session.commit()
    card_customers = sum(1 for n in range(CUSTOMERS) if _credit(n) < 600)

    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(tenant.id), RUN_AT.isoformat()])
    deadline = time.monotonic() + 120
    while _card_payments(tenant) < card_customers // 4 and worker.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    paid_when_killed = _card_payments(tenant)
    assert worker.returncode == -signal.SIGKILL and 0 < paid_when_killed < card_customers

    clock.set(RUN_AT)
    assert daily_billing(tenant.id) == {"skipped": True}  # the dead run's lease has not expired yet
    clock.set(RUN_AT + leases.LEASE)
    daily_billing(tenant.id)
    daily_billing(tenant.id)  # and once more for good measure

    with tenant_db(tenant) as session:
        renewals = session.exec(select(Invoice).where(Invoice.billing_key.like("renewal:%"))).all()
        assert len(renewals) == CUSTOMERS and all(i.status is InvoiceStatus.PAID for i in renewals)
        assert sorted(i.number for i in renewals) == [f"INV-{n:06d}" for n in range(1, CUSTOMERS + 1)]
        succeeded = session.exec(
            select(Payment.invoice_id).where(Payment.status == PaymentStatus.SUCCEEDED)
        ).all()
        by_card = [i for i in renewals if i.credit_applied_minor < 600]
        assert Counter(succeeded) == {i.id: 1 for i in by_card} and len(by_card) == card_customers
        for invoice in renewals:
            n = int(session.get(User, invoice.user_id).email[1:].split("@")[0])
            assert (invoice.credit_applied_minor, invoice.amount_paid_minor) == (_credit(n), 600 - _credit(n))
            assert credits.balance_minor(session, user_id=invoice.user_id, currency="USD") == 0
        customers = {
            i.id: payments.stripe_customer_id(session, tenant=tenant, user_id=i.user_id) for i in renewals
        }
        mails = session.exec(select(TenantMail.to_address, TenantMail.status, TenantMail.kind)).all()
    # The killed run committed its invoices but mailed none; the next runs mail each exactly once.
    invoice_mails = [to for to, status, kind in mails if kind == "invoice"]
    assert sorted(invoice_mails) == sorted(f"c{n}@example.test" for n in range(CUSTOMERS))
    assert {status for _, status, _ in mails} == {MailStatus.OUTBOX}
    for invoice in renewals:
        charges = [c.amount for c in charges_of(customers[invoice.id], tenant) if c.status == "succeeded"]
        assert charges == ([invoice.amount_paid_minor] if invoice.amount_paid_minor else []), invoice.number


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
