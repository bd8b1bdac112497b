"""Wholesale invoices done right: only billable days (creation, trial, purge), a due date, notices
to the owner, the card on the due date and its retries, past due, suspension after the grace and
reinstatement on payment — against hand-computed totals and an injected clock."""

import json
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from ezscale.errors import DomainError, NotFound
from ezscale.models.central import (
    Tenant,
    TenantBilling,
    TenantBillingStatus,
    TenantStatus,
    WholesaleInvoice,
    WholesaleInvoiceStatus,
)
from ezscale.models.tenant import Plan, Service, ServiceStatus, Subscription, User
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.core.mail import list_outbox
from ezscale.services.resellers.wholesale import run_wholesale_billing, set_billing_cycle_day
from ezscale.services.resellers.wholesale_dunning import collect
from ezscale.services.resellers.wholesale_payments import pay_invoice, save_card, start_card_setup
from ezscale.services.tenancy.tenants import TenantInfo, suspend_tenant, tenant_session
from tests.actors import admin, audit_trail, owner
from tests.factories import purge


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _totals(central, slug: str) -> dict[date, int]:
    rows = central.exec(
        select(WholesaleInvoice.period_start, WholesaleInvoice.total_minor)
        .join(Tenant, Tenant.id == WholesaleInvoice.tenant_id)
        .where(Tenant.slug == slug)
    ).all()
    return dict(rows)


def _vps_from(tenant, started: datetime) -> None:
    with tenant_session(TenantInfo.of(tenant)) as db:
        user = User(email="alice@x.test", password_hash="x", created_at=started)
        plan = db.exec(select(Plan).where(Plan.code == "vps-2")).one()
        db.add(user)
        db.flush()
        service = Service(user_id=user.id, plan_id=plan.id, status=ServiceStatus.ACTIVE, created_at=started)
        db.add(service)
        db.flush()
        db.add(
            Subscription(
                user_id=user.id,
                plan_id=plan.id,
                service_id=service.id,
                current_period_start=started,
                current_period_end=started,
                created_at=started,
            )
        )
        db.commit()


def test_only_billable_days_are_billed_over_two_months(make_tenant, central, clock):
    """Basic tier: fee $49.00. Pro tier: fee $99.00, VPS 2 at $10.50 wholesale."""
    clock.set(at(2026, 9, 1))
    make_tenant("paused")
    make_tenant("gone")
    clock.set(at(2026, 10, 5))
    trial = make_tenant("trial", tier="pro", trial_ends_at=at(2026, 11, 20, 10))
    clock.set(at(2026, 11, 10))
    _vps_from(trial, at(2026, 11, 10))  # sold during the trial: billed from the trial's end
    clock.set(at(2026, 11, 16, 10))
    make_tenant("mid")
    suspend_tenant(central, "paused")  # its customers' services run on: still billed
    purge(central, "gone")

    for day in (date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)):
        clock.set(datetime.combine(day, datetime.min.time(), tzinfo=UTC))
        report = run_wholesale_billing(on=day)
        assert report.failed == {}
    assert _totals(central, "paused") == {
        date(2026, 10, 1): 4900,
        date(2026, 11, 1): 4900,
        date(2026, 12, 1): 4900,
    }
    assert _totals(central, "gone") == {}
    # In its trial all of October and until 20 Nov 10:00 (that day is free too): 10 of 30 days.
    assert _totals(central, "trial") == {
        date(2026, 11, 1): 3300 + 350,  # $99.00 × 10/30 + $10.50 × 10/30
        date(2026, 12, 1): 9900 + 1050,
    }
    # Created 16 Nov: 15 of 30 days of November, nothing for October.
    assert _totals(central, "mid") == {date(2026, 11, 1): 2450, date(2026, 12, 1): 4900}

    again = run_wholesale_billing(on=date(2027, 1, 1))
    assert again.created == [] and sorted(again.existing) == ["mid", "paused", "trial"]
    assert central.exec(select(WholesaleInvoice)).all().__len__() == 7


def _add_card(central, tenant_id: int, number: str) -> None:
    intent_id = start_card_setup(central, actor=owner(tenant_id), tenant_id=tenant_id).split("_secret_")[0]
    card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    gateway().client.v1.setup_intents.confirm(
        intent_id, {"payment_method_data": {"type": "card", "card": card}}
    )
    save_card(central, actor=owner(tenant_id), tenant_id=tenant_id, setup_intent_id=intent_id)


def _state(central, tenant_id: int) -> tuple[str, str, str]:
    central.expire_all()
    tenant = central.get(Tenant, tenant_id)
    billing = central.exec(select(TenantBilling).where(TenantBilling.tenant_id == tenant_id)).one()
    return tenant.status.value, tenant.suspension_reason, billing.status.value


@pytest.fixture
def billed(make_tenant, central, clock, stripe_env):
    """A basic reseller created in October with a card that attaches but declines, billed on 1 Dec."""
    clock.set(at(2026, 10, 1))
    tenant = make_tenant("acme")
    _add_card(central, tenant.id, "4000000000000341")
    clock.set(at(2026, 12, 1, 6))
    run_wholesale_billing(on=date(2026, 12, 1))
    invoice = central.exec(select(WholesaleInvoice)).one()
    assert invoice.due_on == date(2026, 12, 8) and invoice.total_minor == 4900
    return tenant, invoice


def test_dunning_runs_its_schedule_once_and_payment_reinstates(billed, central, clock):
    tenant, invoice = billed
    for day in range(1, 21):
        clock.set(at(2026, 12, day, 6))
        collect(on=date(2026, 12, day))
        collect(on=date(2026, 12, day))  # a second pass the same day changes nothing
        status = _state(central, tenant.id)
        if day < 8:
            assert status == ("active", "", "active")
        elif day < 18:
            assert status == ("active", "", "past_due")  # due 8 Dec, grace 10 days
        else:
            assert status == ("suspended", "unpaid", "past_due")

    mails = [m.kind for m in reversed(list_outbox(tenant=None, to=tenant.owner_email))]
    assert mails.count("invitation") <= 1
    assert [k for k in mails if k.startswith("wholesale")] == [
        "wholesale_invoice",
        "wholesale_reminder",
        "wholesale_overdue",
    ]
    central.expire_all()
    row = central.get(WholesaleInvoice, invoice.id)
    assert row.attempt_count == 4 and row.next_attempt_on is None  # due date, then +2, +4, +6
    charges = audit_trail("wholesale.charge")
    assert [c[3]["attempt"] for c in charges] == [1, 2, 3, 4]
    assert {c[3]["status"] for c in charges} == {"open"}
    assert [a[1] for a in audit_trail("wholesale.suspend")] == ["wholesale.suspend"]

    _add_card(central, tenant.id, "4242424242424242")
    paid = pay_invoice(central, actor=owner(tenant), invoice_id=invoice.id, tenant_id=tenant.id)
    assert paid.status is WholesaleInvoiceStatus.PAID
    assert _state(central, tenant.id) == ("active", "", "active")
    assert [a[1] for a in audit_trail("wholesale.reinstate")] == ["wholesale.reinstate"]


def test_an_admin_suspension_is_not_lifted_by_payment(billed, central, clock):
    tenant, invoice = billed
    suspend_tenant(central, tenant.slug)
    _add_card(central, tenant.id, "4242424242424242")
    clock.set(at(2026, 12, 8, 6))
    assert collect(on=date(2026, 12, 8)).charged == {invoice.number: "paid"}
    assert _state(central, tenant.id) == (
        TenantStatus.SUSPENDED.value,
        "admin",
        TenantBillingStatus.ACTIVE.value,
    )


def _collector(on: date) -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.services.resellers.collect_worker", on.isoformat()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline().strip() == "ready"
    return worker


def test_two_collection_passes_at_once_charge_and_mail_once(billed, central, clock):
    tenant, _invoice = billed
    _add_card(central, tenant.id, "4242424242424242")
    workers = [_collector(date(2026, 12, 8)) for _ in range(2)]
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(len(r["charged"]) for r in results) == [0, 1]
    customer = central.exec(
        select(TenantBilling.stripe_customer_id).where(TenantBilling.tenant_id == tenant.id)
    ).one()
    succeeded = [
        c for c in gateway().client.v1.charges.list({"customer": customer}).data if c.status == "succeeded"
    ]
    assert [c.amount for c in succeeded] == [4900]
    kinds = [
        m.kind for m in list_outbox(tenant=None, to=tenant.owner_email) if m.kind.startswith("wholesale")
    ]
    assert kinds == ["wholesale_invoice"]


def test_the_admin_sets_the_billing_day_and_bad_days_change_nothing(make_tenant, central, clock):
    clock.set(at(2026, 9, 1))
    make_tenant("acme")
    for bad in (0, 29):
        with pytest.raises(DomainError, match="from 1 to 28"):
            set_billing_cycle_day(central, actor=admin(), slug="acme", day=bad)
    with pytest.raises(DomainError, match="Only platform admins"):
        set_billing_cycle_day(central, actor=owner(central.exec(select(Tenant)).one()), slug="acme", day=15)
    with pytest.raises(NotFound):
        set_billing_cycle_day(central, actor=admin(), slug="nobody", day=15)
    assert audit_trail("reseller.billing_day") == []

    set_billing_cycle_day(central, actor=admin(), slug="acme", day=15, ip="192.0.2.1")
    assert audit_trail("reseller.billing_day") == [
        ("admin@ezscale.test", "reseller.billing_day", "tenant:acme", {"day": 15}, "192.0.2.1")
    ]
    clock.set(at(2026, 12, 15))
    run_wholesale_billing(on=date(2026, 12, 15))
    invoice = central.exec(select(WholesaleInvoice)).one()
    assert (invoice.period_start, invoice.period_end) == (date(2026, 11, 15), date(2026, 12, 15))
