"""Payments against localstripe: cards by SetupIntent, off-session charges, declines, refunds."""

import json

import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import CreditKind, InvoiceStatus
from ezscale.services.billing import credits, invoices, payments
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_card, add_customer, on_account, tenant_db
from tests.services.billing.support import StripeProxy, answer, stripe_proxy

DECLINED_ON_CHARGE = "4000000000000341"


def _open_invoice(session, user_id, amount=2500):
    invoice = invoices.create_draft(session, user_id=user_id, currency="USD")
    invoices.add_line(session, invoice, description="VPS", unit_minor=amount)
    invoices.issue(session, invoice)
    session.commit()
    return invoice


def test_saved_card_pays_invoice_after_credit(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("pay"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        card = add_card(session, tenant, user.id)
        assert card.is_default and card.last4 == "4242"
        credits.add_entry(
            session, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=500, currency="USD", memo="gift"
        )
        invoice = _open_invoice(session, user.id)
        payment = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_minor == 2000
        assert invoice.status is InvoiceStatus.PAID and invoice.credit_applied_minor == 500
        intent = gateway().client.v1.payment_intents.retrieve(
            payment.stripe_payment_intent_id, None, on_account(tenant)
        )
        assert intent.amount == 2000 and intent.status == "succeeded"
        assert intent.metadata["payment_key"] == payment.idempotency_key
        # Charging a paid invoice again does nothing.
        assert payments.charge_invoice(session, tenant=tenant, invoice=invoice) is None


def test_declined_card_fails_and_schedules_retry(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("pay"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        add_card(session, tenant, user.id, DECLINED_ON_CHARGE)
        invoice = _open_invoice(session, user.id)
        payment = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert payment.status is PaymentStatus.FAILED and "declined" in payment.failure_message
        assert invoice.status is InvoiceStatus.OPEN and invoice.attempt_count == 1
        assert invoice.next_attempt_at is not None and (invoice.next_attempt_at - invoice.due_at).days == 1


def test_cards_default_and_remove(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("pay"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        first = add_card(session, tenant, user.id)
        second = add_card(session, tenant, user.id, "5555555555554444")
        assert not second.is_default
        payments.set_default_card(session, tenant=tenant, user_id=user.id, card_id=second.id)
        assert [c.id for c in payments.list_cards(session, user_id=user.id)] == [second.id, first.id]
        payments.remove_card(session, user_id=user.id, card_id=second.id)
        assert [c.id for c in payments.list_cards(session, user_id=user.id)] == [first.id]
        assert payments.default_card(session, user_id=user.id).id == first.id
        other = add_customer(session, "other@example.test")
        with pytest.raises(DomainError):
            payments.remove_card(session, user_id=other.id, card_id=first.id)


def test_top_up_and_refund(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("pay"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        add_card(session, tenant, user.id)
        payment = payments.top_up(session, tenant=tenant, user_id=user.id, amount_minor=5000)
        assert payment.status is PaymentStatus.SUCCEEDED
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 5000
        payments.refund(session, payment=payment, amount_minor=1000, reason="asked")
        assert payment.refunded_minor == 1000
        with pytest.raises(DomainError):
            payments.refund(session, payment=payment, amount_minor=4001, reason="too much")
        refunds = gateway().client.v1.refunds.list(
            {"payment_intent": payment.stripe_payment_intent_id}, on_account(tenant)
        )
        assert [r.amount for r in refunds.data] == [1000]


def test_interrupted_attempt_resumes_without_second_charge(make_tenant, clock, stripe_env):
    """A pending attempt (the process died after Stripe charged) is found by its key, not redone."""
    tenant = TenantInfo.of(make_tenant("pay"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        card = add_card(session, tenant, user.id)
        invoice = _open_invoice(session, user.id)
        invoice.attempt_count = 1
        pending = Payment(
            user_id=user.id,
            invoice_id=invoice.id,
            amount_minor=2500,
            currency="USD",
            idempotency_key=f"t{tenant.id}:{invoice.number}:attempt-1:abc",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add_all([invoice, pending])
        session.commit()
        customer = payments.stripe_customer_id(session, tenant=tenant, user_id=user.id)
        payments.stripe_for(tenant).charge_off_session(
            customer_id=customer,
            payment_method_id=card.stripe_payment_method_id,
            amount_minor=2500,
            currency="USD",
            idempotency_key=pending.idempotency_key,
            metadata={"payment_key": pending.idempotency_key},
        )
        with pytest.raises(payments.PaymentInProgress):  # still within its lease: someone's in flight
            payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        clock.advance(payments.ATTEMPT_LEASE)  # the process that made it died
        payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert invoice.status is InvoiceStatus.PAID
        charges = gateway().client.v1.charges.list({"customer": customer}, on_account(tenant)).data
        assert len(charges) == 1
        assert session.exec(select(Payment)).one().status is PaymentStatus.SUCCEEDED


class _FlakyStripe(StripeProxy):
    """A loopback proxy to localstripe that answers the first charge attempts with 429 and 500,
    then forwards; it records the idempotency key of every charge request it sees."""

    failures: list[int] = []
    keys: list[str] = []

    def forward(self) -> None:
        if self.command == "POST" and self.path == "/v1/payment_intents":
            self.keys.append(self.headers.get("Idempotency-Key", ""))
            if self.failures:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                error = {"error": {"message": "slow down", "type": "api_error"}}
                answer(self, self.failures.pop(0), json.dumps(error).encode())
                return
        super().forward()


def test_rate_limits_and_server_errors_are_retried_with_the_same_key(
    make_tenant, clock, stripe_env, monkeypatch
):
    tenant = TenantInfo.of(make_tenant("pay"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        add_card(session, tenant, user.id)
        invoice = _open_invoice(session, user.id)
        _FlakyStripe.upstream, _FlakyStripe.failures, _FlakyStripe.keys = stripe_env, [429, 500, 429], []
        with stripe_proxy(_FlakyStripe, monkeypatch):
            payment = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert payment.status is PaymentStatus.SUCCEEDED and invoice.status is InvoiceStatus.PAID
        assert len(_FlakyStripe.keys) == 4 and set(_FlakyStripe.keys) == {payment.idempotency_key}
