"""Dunning end to end on the injected clock: decline → retries → suspension → payment → back."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from ezscale.models.billing import BillingEvent, Payment
from ezscale.models.tenant import InvoiceStatus, Service, ServiceStatus, SubscriptionStatus
from ezscale.services.billing import payments, runs, subscriptions, timeline
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_card, add_customer, plan, tenant_db

DECLINED_ON_CHARGE = "4000000000000341"


def test_decline_retries_suspension_payment_unsuspension(make_tenant, clock, stripe_env):
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    tenant = TenantInfo.of(make_tenant("dun"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        ensure_profile(session, user_id=user.id, anchor_day=1)
        bad = add_card(session, tenant, user.id, DECLINED_ON_CHARGE)
        sub, invoice = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-2").id)
        service = session.get(Service, sub.service_id)
        service.status = ServiceStatus.ACTIVE
        session.add(service)
        session.commit()

        attempts_by_day = {}
        notices = []
        for day in range(0, 9):
            clock.set(datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=day))
            before = len(session.exec(select(Payment)).all())
            report = runs.daily_run(session, tenant=tenant)
            notices += [n.kind for n in report.dunning.notices]
            attempts_by_day[day] = len(session.exec(select(Payment)).all()) - before
        # First attempt on the due date, then retries on days 1, 3 and 5, then no more.
        assert [d for d, n in attempts_by_day.items() if n] == [0, 1, 3, 5]
        session.refresh(invoice)
        session.refresh(service)
        session.refresh(sub)
        assert invoice.status is InvoiceStatus.OPEN and invoice.next_attempt_at is None
        assert service.status is ServiceStatus.SUSPENDED and sub.status is SubscriptionStatus.PAST_DUE
        assert notices == ["billing_overdue", "billing_suspended"]
        assert runs.daily_run(session, tenant=tenant).dunning.suspended == 0  # each step once

        # The customer adds a working card, makes it the default and pays now.
        good = add_card(session, tenant, user.id)
        payments.set_default_card(session, tenant=tenant, user_id=user.id, card_id=good.id)
        payments.remove_card(session, user_id=user.id, card_id=bad.id)
        payment = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert payment.status.value == "succeeded" and invoice.status is InvoiceStatus.PAID
        session.refresh(service)
        session.refresh(sub)
        assert service.status is ServiceStatus.ACTIVE and sub.status is SubscriptionStatus.ACTIVE

        kinds = [e.kind for e in reversed(timeline.list_timeline(session, user_id=user.id))]
        assert kinds.count("payment_failed") == 4
        for step in ("reminder", "suspended", "payment_succeeded", "invoice_paid", "service_unsuspended"):
            assert step in kinds
        assert kinds.index("suspended") < kinds.index("service_unsuspended")
        keys = session.exec(select(BillingEvent.key).where(BillingEvent.key.is_not(None))).all()
        assert len(keys) == len(set(keys))


def test_termination_after_the_threshold(make_tenant, clock, stripe_env):
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    tenant = TenantInfo.of(make_tenant("dun"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        ensure_profile(session, user_id=user.id, anchor_day=1)
        sub, _ = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        service = session.get(Service, sub.service_id)
        service.status = ServiceStatus.ACTIVE
        session.add(service)
        session.commit()
        runs.daily_run(session, tenant=tenant)  # no card: the attempt fails at once
        clock.set(datetime(2026, 12, 1, 1, tzinfo=UTC))
        report = runs.daily_run(session, tenant=tenant)
        assert report.dunning.terminated == 1
        session.refresh(service)
        session.refresh(sub)
        assert service.status is ServiceStatus.TERMINATED and sub.status is SubscriptionStatus.CANCELLED
