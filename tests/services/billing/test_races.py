"""Two actors on the same invoices at once, as real processes (each its own database engine):
two billing runs, Pay now during the run's collection, many Pay now clicks, a run redelivered
while it runs. Every invoice is charged at most once at the Stripe simulator, every charge is
a recorded payment, totals and the credit ledger are exact. Runs on SQLite and PostgreSQL.
"""

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import Invoice, InvoiceStatus, Subscription
from ezscale.services.billing import credits, leases, payments, runs
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.simulators import stripe as stripe_simulator
from tests.factories import (
    card_charges_by_invoice,
    plan,
    renewing_card_customer,
    tenant_db,
)

PERIOD_END = datetime(2026, 12, 1, tzinfo=UTC)
RUN_AT = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)


def _credit(n: int) -> int:
    """Every third customer pays 2.00 of the 6.00 renewal from credit, the rest by card."""
    return 200 if n % 3 == 0 else 0


def _customers(tenant: TenantInfo, clock, count: int) -> list[str]:
    """`count` customers with a card and a 6.00 monthly plan renewing Dec 1; their Stripe ids."""
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    stripe_ids = []
    with tenant_db(tenant) as session:
        vps = plan(session, "vps-1")
        for n in range(count):
            user = renewing_card_customer(
                session,
                tenant,
                email=f"c{n}@example.test",
                plan=vps,
                renews_at=PERIOD_END,
                credit_minor=_credit(n),
            )
            stripe_ids.append(payments.stripe_customer_id(session, tenant=tenant, user_id=user.id))
        session.commit()
    return stripe_ids


def _start(mode: str, tenant: TenantInfo, *invoice_ids: int) -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.services.billing.race_worker", mode, str(tenant.id), RUN_AT.isoformat()]
        + [str(i) for i in invoice_ids],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline().strip() == "ready"
    return worker


def _race(*workers: subprocess.Popen) -> list:
    """Let every worker go at once; their results."""
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _issue_renewals(tenant: TenantInfo, clock) -> list[int]:
    clock.set(RUN_AT)
    with tenant_db(tenant) as session:
        return runs.invoice_renewals(session)


def _assert_charged_once(tenant: TenantInfo, stripe_ids: list[str], count: int) -> None:
    """Each renewal paid: from credit and card as planned, one succeeded payment per invoice
    with a card part, exactly one succeeded charge for it at the simulator; ledger exact."""
    with tenant_db(tenant) as session:
        renewals = session.exec(select(Invoice).where(Invoice.billing_key.like("renewal:%"))).all()
        assert len(renewals) == count
        assert sorted(i.number for i in renewals) == [f"INV-{n:06d}" for n in range(1, count + 1)]
        assert all(i.status is InvoiceStatus.PAID for i in renewals)
        by_card = {i.id for i in renewals if i.amount_paid_minor}
        for invoice in renewals:
            assert invoice.credit_applied_minor + invoice.amount_paid_minor == invoice.total_minor == 600
            assert credits.balance_minor(session, user_id=invoice.user_id, currency="USD") == 0
        succeeded = Counter(
            session.exec(select(Payment.invoice_id).where(Payment.status == PaymentStatus.SUCCEEDED)).all()
        )
        assert succeeded == {invoice_id: 1 for invoice_id in by_card}
        subs = session.exec(select(Subscription)).all()
        assert {s.invoiced_through for s in subs} == {datetime(2027, 1, 1, tzinfo=UTC)}
    assert card_charges_by_invoice(stripe_ids) == {invoice_id: 1 for invoice_id in by_card}
    assert len(by_card) == sum(1 for n in range(count) if _credit(n) < 600)


def test_two_billing_runs_at_once_charge_each_card_once(make_tenant, clock, stripe_env):
    """Two runs without the lease (as when it expired under a stalled run): each invoice is
    issued once, charged once, and the next period is not invoiced early."""
    tenant = TenantInfo.of(make_tenant("race"))
    stripe_ids = _customers(tenant, clock, 30)
    results = _race(_start("run", tenant), _start("run", tenant))
    assert sum(r["invoices"] for r in results) == 30
    _assert_charged_once(tenant, stripe_ids, 30)


def test_parallel_runs_at_the_gateway_rate_limit_with_faults_charge_once(
    make_tenant, clock, stripe_env, monkeypatch
):
    """Two runs at once, each charging by 4 workers, against a Stripe limited to 40 req/s that
    also answers 10 % of calls 429 and loses 10 % of replies in a 500 after charging: every
    invoice is charged once; a third run afterwards charges nothing."""
    monkeypatch.setenv("EZSCALE_CHARGE_WORKERS", "4")
    tenant = TenantInfo.of(make_tenant("race"))
    stripe_ids = _customers(tenant, clock, 30)
    stripe_simulator.configure_limits(stripe_env, rate=40, burst=5, error_429=0.1, error_5xx=0.1, seed=7)
    try:
        results = _race(_start("run", tenant), _start("run", tenant))
        again = _race(_start("run", tenant))
        counted = stripe_simulator.limits(stripe_env)
    finally:
        stripe_simulator.configure_limits(stripe_env, rate=0, error_429=0, error_5xx=0)
    assert sum(r["invoices"] for r in results) == 30
    assert again == [{"invoices": 0, "paid": 0, "unpaid": 0}]
    _assert_charged_once(tenant, stripe_ids, 30)
    assert counted["injected_429"] > 0 and counted["injected_5xx"] > 0  # the faults did happen


def test_two_daily_tasks_at_once_run_once(make_tenant, clock, stripe_env):
    """Two deliveries of the daily task: the lease lets one run; the other exits, or finds
    nothing left to do."""
    tenant = TenantInfo.of(make_tenant("race"))
    stripe_ids = _customers(tenant, clock, 30)
    results = _race(_start("daily", tenant), _start("daily", tenant))
    assert sorted(r.get("invoices", 0) for r in results) == [0, 30]
    _assert_charged_once(tenant, stripe_ids, 30)


def test_pay_now_during_the_runs_collection(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("race"))
    stripe_ids = _customers(tenant, clock, 24)
    issued = _issue_renewals(tenant, clock)
    results = _race(_start("collect", tenant), _start("pay", tenant, *issued))
    assert set(results[1].values()) <= {"paid", "in_progress", "nothing_due"}
    _assert_charged_once(tenant, stripe_ids, 24)


@pytest.mark.parametrize("clicks", [4])
def test_concurrent_pay_now_clicks_charge_once(make_tenant, clock, stripe_env, clicks):
    tenant = TenantInfo.of(make_tenant("race"))
    stripe_ids = _customers(tenant, clock, 1)
    (invoice_id,) = _issue_renewals(tenant, clock)
    results = _race(*[_start("pay", tenant, invoice_id) for _ in range(clicks)])
    outcomes = Counter(r[str(invoice_id)] for r in results)
    assert outcomes["paid"] >= 1 and outcomes["unpaid"] == 0
    assert outcomes["paid"] + outcomes["in_progress"] + outcomes["nothing_due"] == clicks
    with tenant_db(tenant) as session:
        attempts = session.exec(select(Payment).where(Payment.invoice_id == invoice_id)).all()
    assert [(p.attempt_no, p.status) for p in attempts] == [(1, PaymentStatus.SUCCEEDED)]
    assert card_charges_by_invoice(stripe_ids) == {invoice_id: 1}


def _payments_made(tenant: TenantInfo) -> int:
    with tenant_db(tenant) as session:
        return session.exec(select(func.count()).select_from(Payment)).one()


def test_run_redelivered_while_running_exits(make_tenant, clock, stripe_env):
    """acks_late redelivers the daily task while the first delivery is still charging cards:
    the copy finds the lease held and exits without touching anything."""
    tenant = TenantInfo.of(make_tenant("race"))
    stripe_ids = _customers(tenant, clock, 60)
    redelivered = _start("daily", tenant)
    first = _start("daily", tenant)
    first.stdin.write("go\n")
    first.stdin.flush()
    deadline = time.monotonic() + 120
    while _payments_made(tenant) == 0:  # the first run is collecting
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    (copy,) = _race(redelivered)
    assert copy == {"skipped": True}
    out, _ = first.communicate(timeout=300)
    assert json.loads(out.strip().splitlines()[-1])["invoices"] == 60
    _assert_charged_once(tenant, stripe_ids, 60)


def test_lease_expires_when_its_holder_dies(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("lease"))
    clock.set(RUN_AT)
    with tenant_db(tenant) as session:
        dead = leases.acquire(session, name="daily")
        assert dead is not None and leases.acquire(session, name="daily") is None
        assert runs.daily_run(session, tenant=tenant).skipped
        clock.advance(leases.LEASE / 2)
        assert leases.acquire(session, name="daily") is None
        clock.advance(leases.LEASE / 2)
        taker = leases.acquire(session, name="daily")
        assert taker is not None
        with pytest.raises(leases.LeaseLost):
            leases.renew(session, dead)  # the old holder wakes up: it must stop
        leases.renew(session, taker)
        leases.release(session, taker)
        assert not runs.daily_run(session, tenant=tenant).skipped
