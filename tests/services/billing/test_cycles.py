"""Subscriptions, renewals ahead of the anchor day, monthly usage, plan changes, cancellation."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.billing import UsageCharge
from ezscale.models.tenant import (
    CreditKind,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    SubscriptionStatus,
)
from ezscale.services.billing import credits, invoices, payments, runs, subscriptions
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.usage_charges import record_usage_charge
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_customer, plan, tenant_db


@pytest.fixture(autouse=True)
def _midnight(clock):
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))


def _customer(session, anchor_day=1, email="c@example.test"):
    user = add_customer(session, email)
    ensure_profile(session, user_id=user.id, anchor_day=anchor_day)
    session.commit()
    return user


def test_subscribe_prorates_to_the_anchor_day(make_tenant, clock):
    clock.set(datetime(2026, 11, 16, 0, 0, tzinfo=UTC))  # 15 of 30 days left to Dec 1
    with tenant_db(make_tenant("cyc")) as session:
        user = _customer(session)
        vps = plan(session, "vps-2")  # 15.00 a month
        sub, invoice = subscriptions.subscribe(session, user_id=user.id, plan_id=vps.id)
        assert sub.current_period_end == datetime(2026, 12, 1, tzinfo=UTC)
        assert invoice.total_minor == 750 and invoice.status is InvoiceStatus.OPEN


def test_renewals_are_invoiced_ahead_once_per_customer(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("cyc"))
    with tenant_db(tenant) as session:
        user = _customer(session)
        for code in ("vps-1", "vps-2"):
            subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, code).id)
        assert runs.invoice_renewals(session) == []  # Dec 1 is more than 7 days away
        clock.set(datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
        assert len(runs.invoice_renewals(session)) == 1
        assert runs.invoice_renewals(session) == []
        renewal = session.exec(select(Invoice).where(Invoice.billing_key.like("renewal:%"))).one()
        assert renewal.total_minor == 2100 and renewal.due_at == datetime(2026, 12, 1, tzinfo=UTC)
        assert len(session.exec(select(InvoiceItem).where(InvoiceItem.invoice_id == renewal.id)).all()) == 2


def test_cancel_at_period_end_stops_renewal(make_tenant, clock):
    with tenant_db(make_tenant("cyc")) as session:
        user = _customer(session)
        sub, _ = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        subscriptions.cancel(session, subscription=sub, at_period_end=True)
        clock.set(datetime(2026, 11, 28, tzinfo=UTC))
        assert runs.invoice_renewals(session) == []
        clock.set(datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))
        subscriptions.roll_periods(session)
        session.refresh(sub)
        assert sub.status is SubscriptionStatus.CANCELLED


def test_upgrade_and_downgrade_prorate(make_tenant, clock):
    with tenant_db(make_tenant("cyc")) as session:
        user = _customer(session)
        sub, _ = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        clock.set(datetime(2026, 11, 16, 0, 0, tzinfo=UTC))  # half of the Nov 1 – Dec 1 period left
        up = subscriptions.change_plan(session, subscription=sub, plan_id=plan(session, "vps-2").id)
        assert up.total_minor == 750 - 300  # remaining half of 15.00 minus unused half of 6.00
        with pytest.raises(DomainError, match="already in progress"):  # its collection is under way
            subscriptions.change_plan(session, subscription=sub, plan_id=plan(session, "vps-1").id)
        clock.advance(payments.ATTEMPT_LEASE)  # that change is long over
        with pytest.raises(DomainError, match="for the last plan change first"):  # not paid yet
            subscriptions.change_plan(session, subscription=sub, plan_id=plan(session, "vps-1").id)
        credits.add_entry(
            session, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=450, currency="USD", memo="top-up"
        )
        invoices.apply_credit(session, up)
        session.commit()
        down = subscriptions.change_plan(session, subscription=sub, plan_id=plan(session, "vps-1").id)
        assert down is None
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 450


def test_monthly_usage_invoices_each_charge_exactly_once(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("cyc"))
    with tenant_db(tenant) as session:
        user = _customer(session, anchor_day=5)

        def usage(key, end, amount):
            return record_usage_charge(
                session,
                user_id=user.id,
                service_id=None,
                description=f"Kasm {key}",
                quantity=Decimal("1.25"),
                unit_rate=Decimal("0.200000"),
                amount_minor=amount,
                currency="USD",
                period_start=end - timedelta(hours=2),
                period_end=end,
                source_key=key,
            )

        usage("a", datetime(2026, 11, 2, tzinfo=UTC), 25)
        usage("b", datetime(2026, 11, 4, 23, tzinfo=UTC), 30)
        clock.set(datetime(2026, 11, 5, 6, tzinfo=UTC))
        usage("c", datetime(2026, 11, 5, 3, tzinfo=UTC), 40)  # after the billing date: next month
        assert len(runs.invoice_usage(session)) == 1
        assert runs.invoice_usage(session) == []
        usage("late", datetime(2026, 11, 3, tzinfo=UTC), 5)  # recorded late: next month's invoice
        assert runs.invoice_usage(session) == []
        first = session.exec(select(Invoice).where(Invoice.billing_key.like("usage:%"))).one()
        assert first.total_minor == 55
        clock.set(datetime(2026, 12, 5, 1, tzinfo=UTC))
        assert len(runs.invoice_usage(session)) == 1
        charges = session.exec(select(UsageCharge)).all()
        assert all(c.invoice_id is not None for c in charges)
        second = session.get(Invoice, next(c.invoice_id for c in charges if c.source_key == "c"))
        assert second.id != first.id and second.total_minor == 45


def test_credit_pays_renewal_in_the_daily_run(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("cyc"))
    with tenant_db(tenant) as session:
        user = _customer(session)
        sub, order = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        credits.add_entry(
            session,
            user_id=user.id,
            kind=CreditKind.TOP_UP,
            amount_minor=1200,
            currency="USD",
            memo="prepaid",
        )
        session.commit()
        report = runs.daily_run(session, tenant=tenant)
        assert report.charged == 1
        clock.set(datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))
        report = runs.daily_run(session, tenant=tenant)
        assert report.invoices == 1 and report.charged == 1
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 0
        session.refresh(sub)
        assert sub.current_period_start == datetime(2026, 12, 1, tzinfo=UTC)
        assert session.get(type(order), order.id).status is InvoiceStatus.PAID
        assert runs.daily_run(session, tenant=tenant).invoices == 0
