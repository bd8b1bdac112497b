"""Refund caps: card refunds and credit notes on one invoice never give back more than was paid,
in either order and when they race (real processes, on SQLite and on PostgreSQL); one refund
form sent twice at once is one refund; a refund sent again after its reply was lost is refunded
once at Stripe."""

import subprocess
import sys

import pytest
from sqlmodel import func, select

from ezscale.errors import DomainError
from ezscale.models.billing import Payment, PaymentStatus, RefundRequest
from ezscale.models.tenant import CreditEntry, Invoice, InvoiceKind, InvoiceStatus
from ezscale.services.billing import invoices, payments
from ezscale.services.billing.stripe_gateway import PaymentProviderUnavailable, gateway
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings
from tests.factories import add_card, add_customer, on_account, tenant_db
from tests.services.billing.support import StripeProxy, answer, relay, stripe_proxy

PAID = 1500

# One correction, prepared (objects loaded, so they are stale by the time it runs) and then held
# until the test writes a line to stdin: all workers start together, no sleeps.
WORKER = """
import sys
from ezscale.models.billing import Payment
from ezscale.models.tenant import Invoice
from ezscale.services.billing import invoices, payments
from ezscale.errors import DomainError
from ezscale.services.tenancy.tenants import tenant_info, tenant_session

what, tenant_id, invoice_id, payment_id, amount = sys.argv[1], *map(int, sys.argv[2:6])
form = sys.argv[6] if len(sys.argv) > 6 else None  # a refund form's one-time key
with tenant_session(tenant_info(tenant_id)) as session:
    invoice, payment = session.get(Invoice, invoice_id), session.get(Payment, payment_id)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        done = True
        if what == "refund":
            done = payments.refund(
                session, payment=payment, amount_minor=amount, reason="race", request_key=form
            )
        else:
            invoices.create_credit_note(session, invoice=invoice, amount_minor=amount, reason="race")
        print("ok" if done else "done before", flush=True)
    except DomainError:
        print("refused", flush=True)
"""


@pytest.fixture
def paid_invoice(make_tenant, clock, stripe_env):
    """An invoice of 15.00 paid in full by card: (tenant, invoice id, payment id)."""
    tenant = TenantInfo.of(make_tenant("caps"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        add_card(session, tenant, user.id)
        invoice = invoices.create_draft(session, user_id=user.id, currency="USD")
        invoices.add_line(session, invoice, description="VPS", unit_minor=PAID)
        invoices.issue(session, invoice)
        session.commit()
        payment = payments.charge_invoice(session, tenant=tenant, invoice=invoice)
        assert payment.status is PaymentStatus.SUCCEEDED and invoice.status is InvoiceStatus.PAID
        return tenant, invoice.id, payment.id


def _given_back(tenant, invoice_id: int, payment_id: int) -> tuple[int, int, int]:
    """(card refunds recorded, at Stripe, credit notes) on the invoice, read afresh."""
    with tenant_db(tenant) as session:
        payment = session.get(Payment, payment_id)
        notes = session.exec(
            select(func.coalesce(func.sum(Invoice.total_minor), 0)).where(
                Invoice.credits_invoice_id == invoice_id, Invoice.kind == InvoiceKind.CREDIT_NOTE
            )
        ).one()
        assert session.get(Invoice, invoice_id).credited_minor == notes
    at_stripe = (
        gateway()
        .client.v1.refunds.list({"payment_intent": payment.stripe_payment_intent_id}, on_account(tenant))
        .data
    )
    return payment.refunded_minor, sum(r.amount for r in at_stripe), notes


def test_refund_then_credit_note_is_capped(paid_invoice):
    tenant, invoice_id, payment_id = paid_invoice
    with tenant_db(tenant) as session:
        payments.refund(session, payment=session.get(Payment, payment_id), amount_minor=1000, reason="a")
        invoice = session.get(Invoice, invoice_id)
        with pytest.raises(DomainError, match="exceed"):
            invoices.create_credit_note(session, invoice=invoice, amount_minor=501, reason="b")
        invoices.create_credit_note(session, invoice=invoice, amount_minor=500, reason="b")
    assert _given_back(tenant, invoice_id, payment_id) == (1000, 1000, 500)


def test_credit_note_then_refund_is_capped(paid_invoice):
    tenant, invoice_id, payment_id = paid_invoice
    with tenant_db(tenant) as session:
        invoices.create_credit_note(
            session, invoice=session.get(Invoice, invoice_id), amount_minor=PAID, reason="a"
        )
        payment = session.get(Payment, payment_id)
        with pytest.raises(DomainError, match="exceed what was paid"):
            payments.refund(session, payment=payment, amount_minor=1, reason="b")
        balance = session.exec(select(func.sum(CreditEntry.amount_minor))).one()
    assert balance == PAID  # the credit note went to account credit; no card money went back
    assert _given_back(tenant, invoice_id, payment_id) == (0, 0, PAID)


def _race(paid_invoice, race, *, form: tuple[str, ...] = ()) -> list[str]:
    """Run the corrections in `race` (what, amount) in their own processes, all released at
    once; `form` adds a refund form's key to each. Returns each one's outcome."""
    tenant, invoice_id, payment_id = paid_invoice
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                what,
                str(tenant.id),
                str(invoice_id),
                str(payment_id),
                str(amount),
                *form,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for what, amount in race
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:  # go, all at once
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outcomes = [worker.communicate(timeout=120)[0].strip() for worker in workers]
    assert all(w.returncode == 0 for w in workers), outcomes
    return outcomes


@pytest.mark.parametrize(
    "race",
    [
        (("refund", PAID), ("note", PAID)),
        (("note", PAID), ("refund", PAID)),
        (("refund", 1000), ("refund", 1000)),
        (("note", 1000), ("note", 1000)),
        (("refund", 1000), ("note", 1000), ("refund", 1000), ("note", 1000)),
    ],
    ids=["refund-vs-note", "note-vs-refund", "two-refunds", "two-notes", "four-mixed"],
)
def test_concurrent_refunds_and_credit_notes_never_exceed_what_was_paid(paid_invoice, race):
    tenant, invoice_id, payment_id = paid_invoice
    outcomes = _race(paid_invoice, race)
    refunded, at_stripe, noted = _given_back(tenant, invoice_id, payment_id)
    done = [amount for (what, amount), outcome in zip(race, outcomes, strict=True) if outcome == "ok"]
    assert outcomes.count("ok") == 1 and len(done) == 1, outcomes
    assert refunded == at_stripe and refunded + noted == done[0] <= PAID


def test_one_refund_form_sent_twice_at_once_is_one_refund(paid_invoice):
    """Two processes send the same refund form (one key) at once, and both refunds would fit:
    one refund at Stripe and one record; the other finds it done. A new form refunds again."""
    tenant, invoice_id, payment_id = paid_invoice
    outcomes = _race(paid_invoice, (("refund", 500), ("refund", 500)), form=("form-key-one-0001",))
    assert sorted(outcomes) == ["done before", "ok"]
    assert _given_back(tenant, invoice_id, payment_id) == (500, 500, 0)
    with tenant_db(tenant) as session:
        [form] = session.exec(select(RefundRequest)).all()
        assert (form.key, form.payment_id, form.amount_minor) == ("form-key-one-0001", payment_id, 500)
    assert _race(paid_invoice, (("refund", 500),), form=("form-key-two-0002",)) == ["ok"]
    assert _given_back(tenant, invoice_id, payment_id) == (1000, 1000, 0)


class _LosesRefundReplies(StripeProxy):
    """A loopback proxy to the Stripe simulator: every refund request reaches it, but the first
    `lose` replies never come back (the connection drops, as after a network failure)."""

    lose = 0
    seen: list[tuple[str, str]] = []  # (Idempotency-Key, Idempotent-Replayed) of each refund

    def forward(self) -> None:
        reply = relay(self, self.upstream)
        if self.command == "POST" and self.path == "/v1/refunds":
            self.seen.append(
                (self.headers.get("Idempotency-Key", ""), reply.headers.get("Idempotent-Replayed", ""))
            )
            if type(self).lose > 0:
                type(self).lose -= 1
                self.close_connection = True  # refunded at Stripe; the reply is lost
                return
        answer(self, reply.status_code, reply.content)


@pytest.fixture
def lossy_stripe(stripe_env, monkeypatch):
    """Point the billing services at the lossy proxy; yields its handler class (set `lose`)."""
    _LosesRefundReplies.upstream, _LosesRefundReplies.lose, _LosesRefundReplies.seen = stripe_env, 0, []
    with stripe_proxy(_LosesRefundReplies, monkeypatch):
        yield _LosesRefundReplies


def test_a_refund_whose_reply_was_lost_is_retried_and_refunded_once(paid_invoice, lossy_stripe):
    tenant, invoice_id, payment_id = paid_invoice
    lossy_stripe.lose = 1
    with tenant_db(tenant) as session:
        payments.refund(session, payment=session.get(Payment, payment_id), amount_minor=500, reason="a")
    [(key, first), (again, replayed)] = lossy_stripe.seen
    assert key == again and (first, replayed) == ("", "true")
    assert _given_back(tenant, invoice_id, payment_id) == (500, 500, 0)
    assert len(_refunds_at_stripe(tenant, payment_id)) == 1


def test_the_same_refund_sent_again_after_a_failed_call_is_refunded_once(paid_invoice, lossy_stripe):
    """Every reply of the first call is lost: Stripe refunded, we recorded nothing and said so.
    The operator sends the same refund again (same payment and amount): the simulator replays
    it. Only a further refund, asked for after that one was recorded, is new money back."""
    tenant, invoice_id, payment_id = paid_invoice
    lossy_stripe.lose = get_settings().stripe_max_retries + 1
    with tenant_db(tenant) as session:
        with pytest.raises(PaymentProviderUnavailable):
            payments.refund(session, payment=session.get(Payment, payment_id), amount_minor=500, reason="a")
        assert session.get(Payment, payment_id).refunded_minor == 0
        assert len(_refunds_at_stripe(tenant, payment_id)) == 1
        payments.refund(session, payment=session.get(Payment, payment_id), amount_minor=500, reason="a")
    assert lossy_stripe.seen[-1][1] == "true" and len({key for key, _ in lossy_stripe.seen}) == 1
    assert _given_back(tenant, invoice_id, payment_id) == (500, 500, 0)
    assert [r.amount for r in _refunds_at_stripe(tenant, payment_id)] == [500]
    with tenant_db(tenant) as session:
        payments.refund(session, payment=session.get(Payment, payment_id), amount_minor=500, reason="b")
    assert _given_back(tenant, invoice_id, payment_id) == (1000, 1000, 0)
    assert [r.amount for r in _refunds_at_stripe(tenant, payment_id)] == [500, 500]


def _refunds_at_stripe(tenant, payment_id: int) -> list:
    with tenant_db(tenant) as session:
        intent = session.get(Payment, payment_id).stripe_payment_intent_id
    return gateway().client.v1.refunds.list({"payment_intent": intent}, on_account(tenant)).data
