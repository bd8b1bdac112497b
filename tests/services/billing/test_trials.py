"""Free trials: ordering a trial plan charges nothing and starts the service; the billing run
invoices and charges at the trial's end (setup fee and a full period from there), with dunning as
usual; cancelling in the trial costs nothing; one trial per customer and plan, by the database,
even for two orders placed at once by two processes (SQLite and PostgreSQL); MRR counts a trial
from its end."""

import json
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlmodel import func, select

from ezscale.errors import DomainError
from ezscale.models.billing import BillingEvent, Payment, PaymentStatus
from ezscale.models.tenant import (
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
)
from ezscale.services.analytics.metrics import compute_days
from ezscale.services.billing import orders, runs, subscriptions, views
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.provisioning.view import service_rows
from ezscale.services.resellers.dashboard import summary
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_card, add_customer, card_charges_by_invoice, plan, tenant_db

ORDERED = datetime(2026, 11, 16, 9, tzinfo=UTC)
TRIAL_END = datetime(2026, 11, 30, 9, tzinfo=UTC)  # 14 days later
DECLINED_ON_CHARGE = "4000000000000341"


@pytest.fixture
def shop(make_tenant, clock) -> TenantInfo:
    """A shop whose VPS 2 ($15.00/mo, $5.00 setup) comes with a 14-day trial."""
    clock.set(ORDERED)
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as db:
        vps = plan(db, "vps-2")
        vps.trial_days, vps.setup_fee_minor = 14, 500
        db.add(vps)
        db.commit()
    return tenant


def _buyer(db, tenant, *, card: str | None = "4242424242424242", email="buyer@example.test"):
    user = add_customer(db, email)
    ensure_profile(db, user_id=user.id, anchor_day=1)
    db.commit()
    if card:
        add_card(db, tenant, user.id, card)
    return user


def _count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def _stripe_id(db, tenant, user_id) -> str:
    from ezscale.services.billing import payments

    return payments.stripe_customer_id(db, tenant=tenant, user_id=user_id)


def test_trial_order_charges_nothing_then_the_run_invoices_and_charges_at_trial_end(shop, clock, stripe_env):
    with tenant_db(shop) as db:
        user = _buyer(db, shop)
        quote = orders.quote(db, user_id=user.id, plan_code="vps-2")
        shown = views.order_quote_row(quote)
        assert shown.trial == "14-day free trial, then $15.00/mo; card required"
        assert (shown.due_now, shown.total, shown.setup) == ("$0.00", "$0.00", "$0.00")
        assert "charged $15.00/mo plus the $5.00 setup fee on 2026-11-30" in shown.trial_note

        order = orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-2")
        assert order.trial and order.paid and order.invoice is None
        assert order.service.status is ServiceStatus.ACTIVE  # at once, nothing paid
        sub = db.exec(select(Subscription)).one()
        assert (sub.trial_ends_at, sub.current_period_end, sub.invoiced_through) == (TRIAL_END,) * 3
        assert (_count(db, Invoice), _count(db, Payment)) == (0, 0)
        upcoming = views.overview(db, tenant=shop, user_id=user.id).upcoming
        assert [(u.plan, u.next_date, u.amount) for u in upcoming] == [
            ("VPS 2 — first charge, when the free trial ends", "2026-11-30", "$20.00")
        ]
        (row,) = service_rows(db, user_id=user.id)
        assert row.next_due == "Free trial to 2026-11-30, then billed"

        # A renewal is normally invoiced 7 days ahead: a trial is not, it may still be cancelled.
        clock.set(datetime(2026, 11, 25, tzinfo=UTC))
        assert runs.daily_run(db, tenant=shop).invoices == 0
        assert _count(db, Invoice) == 0

        clock.set(TRIAL_END)
        report = runs.daily_run(db, tenant=shop)
        assert (report.invoices, report.charged) == (1, 1)
        invoice = db.exec(select(Invoice)).one()
        lines = db.exec(select(InvoiceItem.description, InvoiceItem.amount_minor)).all()
        assert sorted(lines) == [("VPS 2 2026-11-30 – 2026-12-30", 1500), ("VPS 2 setup", 500)]
        assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid_minor == 2000
        assert invoice.due_at == TRIAL_END
        db.refresh(sub)
        assert (sub.current_period_start, sub.current_period_end) == (
            TRIAL_END,
            datetime(2026, 12, 30, 9, tzinfo=UTC),
        )
        assert runs.daily_run(db, tenant=shop).invoices == 0  # a re-run makes nothing
        assert card_charges_by_invoice([_stripe_id(db, shop, user.id)], shop) == {invoice.id: 1}

        clock.set(datetime(2026, 12, 23, 9, tzinfo=UTC))  # the next renewal: no setup fee again
        assert runs.daily_run(db, tenant=shop).invoices == 1
        newest = db.exec(select(Invoice).order_by(Invoice.id.desc())).first()
        assert newest.total_minor == 1500


def test_a_declined_card_at_trial_end_goes_to_dunning(shop, clock, stripe_env):
    with tenant_db(shop) as db:
        user = _buyer(db, shop, card=DECLINED_ON_CHARGE)
        order = orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-2")
        assert order.trial  # the card is only charged at the trial's end
        clock.set(TRIAL_END)
        report = runs.daily_run(db, tenant=shop)
        invoice = db.exec(select(Invoice)).one()
        assert (report.invoices, report.charged, report.failed) == (1, 0, 1)
        assert invoice.status is InvoiceStatus.OPEN and invoice.attempt_count == 1
        assert invoice.next_attempt_at is not None  # retried on the dunning schedule
        failed = db.exec(select(Payment.status)).all()
        assert failed == [PaymentStatus.FAILED]


@pytest.mark.parametrize("at_period_end", [True, False])
def test_cancelling_in_the_trial_charges_nothing(shop, clock, stripe_env, at_period_end):
    with tenant_db(shop) as db:
        user = _buyer(db, shop)
        orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-2")
        clock.set(datetime(2026, 11, 20, tzinfo=UTC))
        sub = db.exec(select(Subscription)).one()
        subscriptions.cancel(db, subscription=sub, at_period_end=at_period_end)
        service = db.exec(select(Service)).one()
        expected_now = ServiceStatus.ACTIVE if at_period_end else ServiceStatus.TERMINATED
        assert service.status is expected_now
        for day in (25, 30):
            clock.set(datetime(2026, 11, day, 10, tzinfo=UTC))
            runs.daily_run(db, tenant=shop)
        db.refresh(sub)
        db.refresh(service)
        assert sub.status is SubscriptionStatus.CANCELLED and service.status is ServiceStatus.TERMINATED
        assert (_count(db, Invoice), _count(db, Payment)) == (0, 0)
        assert card_charges_by_invoice([_stripe_id(db, shop, user.id)], shop) == {}
        messages = db.exec(select(BillingEvent.message).where(BillingEvent.kind == "cancelled")).all()
        assert "nothing charged" in messages[0]


def test_a_second_order_of_the_plan_is_a_paid_order(shop, clock, stripe_env):
    with tenant_db(shop) as db:
        user = _buyer(db, shop)
        first = orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-2")
        subscriptions.cancel(db, subscription=db.exec(select(Subscription)).one(), at_period_end=False)
        assert first.trial
        quote = orders.quote(db, user_id=user.id, plan_code="vps-2")
        assert quote.trial == "" and quote.due_now_minor == 500 + 731  # setup + Nov 16 09:00 to Dec 1
        second = orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-2")
        assert not second.trial and second.invoice is not None
        assert second.invoice.status is InvoiceStatus.PAID and second.invoice.total_minor == 1231
        # another customer still gets their own trial of the plan
        other = _buyer(db, shop, email="other@example.test")
        assert orders.place_order(db, tenant=shop, user_id=other.id, plan_code="vps-2").trial


def test_a_trial_needs_a_saved_payment_method_and_writes_nothing_without_one(shop):
    with tenant_db(shop) as db:
        user = _buyer(db, shop, card=None)
        before = (_count(db, Service), _count(db, Subscription), _count(db, Invoice))
        with pytest.raises(DomainError, match="free trial needs a saved card or PayPal account"):
            orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-2")
        assert (_count(db, Service), _count(db, Subscription), _count(db, Invoice)) == before
        # a plan without a trial is ordered as before, card or not
        assert orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-1").invoice is not None


def test_the_plan_cannot_be_changed_during_the_trial(shop, stripe_env):
    with tenant_db(shop) as db:
        user = _buyer(db, shop)
        orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-2")
        sub = db.exec(select(Subscription)).one()
        with pytest.raises(DomainError, match="during its free trial"):
            subscriptions.change_plan(db, subscription=sub, plan_id=plan(db, "vps-1").id)
        assert _count(db, Invoice) == 0


def test_mrr_counts_a_trial_only_from_its_end(shop, clock, stripe_env):
    with tenant_db(shop) as db:
        kept = _buyer(db, shop)
        gone = _buyer(db, shop, email="gone@example.test")
        for user in (kept, gone):
            orders.place_order(db, tenant=shop, user_id=user.id, plan_code="vps-2")
        clock.set(datetime(2026, 11, 20, tzinfo=UTC))
        sub = db.exec(select(Subscription).where(Subscription.user_id == gone.id)).one()
        subscriptions.cancel(db, subscription=sub, at_period_end=False)
        assert summary(db, currency="USD").mrr.minor == 0  # the reseller dashboard's MRR too
        clock.set(datetime(2026, 12, 2, tzinfo=UTC))
        assert summary(db, currency="USD").mrr.minor == 1500
        days = {d.day: d for d in compute_days(db, start=date(2026, 11, 16), end=date(2026, 12, 1))}
    assert days[date(2026, 11, 29)].mrr == 0 and days[date(2026, 11, 29)].new_mrr == 0
    assert days[date(2026, 11, 30)].mrr == 1500 and days[date(2026, 11, 30)].new_mrr == 1500
    assert sum(d.churned_mrr for d in days.values()) == 0  # the trial cancelled never counted


def _order_in_process(tenant: TenantInfo, user_id: int) -> subprocess.Popen:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.services.billing.trial_worker",
            str(tenant.id),
            ORDERED.isoformat(),
            str(user_id),
            "vps-2",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline().strip() == "ready"
    return worker


def test_two_orders_at_once_get_one_trial(shop, stripe_env):
    """Two processes order the trial plan for one customer at the same moment: one trial, one
    paid order (the database's unique constraint decides), both services exist."""
    with tenant_db(shop) as db:
        user = _buyer(db, shop)
    workers = [_order_in_process(shop, user.id) for _ in range(2)]
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["trial"] for r in results) == [False, True]
    with tenant_db(shop) as db:
        subs = db.exec(select(Subscription).order_by(Subscription.id)).all()
        assert len(subs) == 2 and sum(s.trial_plan_id is not None for s in subs) == 1
        (invoice,) = db.exec(select(Invoice)).all()
        assert invoice.status is InvoiceStatus.PAID and invoice.total_minor == 500 + 731
        assert card_charges_by_invoice([_stripe_id(db, shop, user.id)], shop) == {invoice.id: 1}
