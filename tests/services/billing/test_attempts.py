"""Charge attempts: numbered per invoice with deterministic keys, one pending at a time, resumed
with the same key after a failure on our side, and an outcome that counts once however many
actors report it."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import CreditEntry, InvoiceStatus
from ezscale.services.billing import invoices, payments
from ezscale.services.billing.stripe_gateway import ChargeResult, PaymentProviderUnavailable, gateway
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings
from tests.factories import add_card, add_customer, charges_of, tenant_db


def _open_invoice(session, user_id, amount=2500):
    invoice = invoices.create_draft(session, user_id=user_id, currency="USD")
    invoices.add_line(session, invoice, description="VPS", unit_minor=amount)
    invoices.issue(session, invoice)
    session.commit()
    return invoice


def test_attempt_keys_are_deterministic_per_invoice_and_attempt(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("keys"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        add_card(session, tenant, user.id, "4000000000000341")  # declined: a second attempt follows
        invoice = _open_invoice(session, user.id)
        first = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        second = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert (first.attempt_no, second.attempt_no) == (1, 2)
        assert first.idempotency_key == payments.attempt_key(tenant, invoice, 1)
        assert second.idempotency_key == payments.attempt_key(tenant, invoice, 2) != first.idempotency_key
        assert tenant.database_name in first.idempotency_key


def test_database_refuses_a_second_pending_attempt(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("keys"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        invoice = _open_invoice(session, user.id)

        def pending(n: int) -> Payment:
            return Payment(
                user_id=user.id,
                invoice_id=invoice.id,
                amount_minor=2500,
                currency="USD",
                attempt_no=n,
                idempotency_key=payments.attempt_key(tenant, invoice, n),
                created_at=clock.now(),
                updated_at=clock.now(),
            )

        session.add(pending(1))
        session.commit()
        session.add(pending(2))
        with pytest.raises(IntegrityError):
            session.commit()


def test_attempt_after_provider_outage_is_resumed_with_its_key(make_tenant, clock, stripe_env, monkeypatch):
    """Stripe unreachable (maybe after it charged): the attempt stays pending but is released,
    so the customer's next Pay now resumes it with the same key instead of waiting or charging anew."""
    tenant = TenantInfo.of(make_tenant("outage"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        add_card(session, tenant, user.id)
        customer = payments.stripe_customer_id(session, tenant=tenant, user_id=user.id)
        invoice = _open_invoice(session, user.id)
        monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens there
        get_settings.cache_clear()
        with pytest.raises(PaymentProviderUnavailable):
            payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        (attempt,) = session.exec(select(Payment)).all()
        assert attempt.status is PaymentStatus.PENDING
        monkeypatch.setenv("STRIPE_API_BASE", stripe_env)
        get_settings.cache_clear()
        resumed = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert resumed.id == attempt.id and resumed.status is PaymentStatus.SUCCEEDED
        assert invoice.status is InvoiceStatus.PAID and invoice.attempt_count == 1
    assert [c.amount for c in charges_of(customer) if c.status == "succeeded"] == [2500]


def test_an_outcome_reported_twice_counts_once(make_tenant, clock, stripe_env):
    """The run records a success with the payment object it held since the claim, after a
    webhook (another session) already recorded it: the invoice is paid once, no credit appears."""
    tenant = TenantInfo.of(make_tenant("twice"))
    with tenant_db(tenant) as run, tenant_db(tenant) as webhook:
        user = add_customer(run)
        card = add_card(run, tenant, user.id)
        invoice = _open_invoice(run, user.id)
        claimed = Payment(
            user_id=user.id,
            invoice_id=invoice.id,
            amount_minor=2500,
            currency="USD",
            attempt_no=1,
            idempotency_key=payments.attempt_key(tenant, invoice, 1),
            stripe_payment_method_id=card.stripe_payment_method_id,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        run.add(claimed)
        run.commit()
        result = gateway().charge_off_session(
            customer_id=payments.stripe_customer_id(run, tenant=tenant, user_id=user.id),
            payment_method_id=card.stripe_payment_method_id,
            amount_minor=2500,
            currency="USD",
            idempotency_key=claimed.idempotency_key,
            metadata={"payment_key": claimed.idempotency_key},
        )
        assert result == ChargeResult("succeeded", result.payment_intent_id, result.charge_id, "")
        payments.record_outcome(webhook, payment=webhook.get(Payment, claimed.id), result=result)
        webhook.commit()
        payments.record_outcome(run, payment=claimed, result=result)  # stale object: still pending
        run.commit()
        run.refresh(invoice)
        assert invoice.status is InvoiceStatus.PAID and invoice.amount_paid_minor == 2500
        assert run.exec(select(CreditEntry)).all() == []


def test_run_goes_on_when_the_provider_is_down_and_the_next_run_resumes(
    make_tenant, clock, stripe_env, monkeypatch
):
    """Stripe unreachable during a run's parallel collection: the run does not stop, every
    attempt is left pending and released; the next run resumes each with its key, once."""
    from ezscale.services.billing import runs

    monkeypatch.setenv("EZSCALE_STRIPE_MAX_RETRIES", "0")
    tenant = TenantInfo.of(make_tenant("outage"))
    with tenant_db(tenant) as session:
        users = [add_customer(session, f"c{n}@example.test") for n in range(3)]
        customers = []
        for user in users:
            add_card(session, tenant, user.id)
            customers.append(payments.stripe_customer_id(session, tenant=tenant, user_id=user.id))
            _open_invoice(session, user.id)
        monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens there
        get_settings.cache_clear()
        assert runs.collect(session, tenant=tenant) == (0, 3)
        attempts = session.exec(select(Payment)).all()
        assert [a.status for a in attempts] == [PaymentStatus.PENDING] * 3
        monkeypatch.setenv("STRIPE_API_BASE", stripe_env)
        get_settings.cache_clear()
        assert runs.collect(session, tenant=tenant) == (3, 0)
        session.expire_all()
        attempts = session.exec(select(Payment)).all()
        assert [(a.attempt_no, a.status) for a in attempts] == [(1, PaymentStatus.SUCCEEDED)] * 3
    for customer in customers:
        assert [c.amount for c in charges_of(customer) if c.status == "succeeded"] == [2500]
