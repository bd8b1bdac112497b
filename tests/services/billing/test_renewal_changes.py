"""Renewals invoiced ahead follow later changes: cancel at period end, upgrade, downgrade, and
termination by dunning, whether the renewal is still unpaid or already paid."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from ezscale.models.auth import TenantMail
from ezscale.models.billing import BillingEvent, Payment, PaymentStatus
from ezscale.models.tenant import (
    CreditKind,
    Invoice,
    InvoiceItem,
    InvoiceKind,
    InvoiceStatus,
    Subscription,
    SubscriptionStatus,
)
from ezscale.services.billing import credits, invoices, payments, runs, subscriptions
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_card, add_customer, plan, tenant_db

DEC_1 = datetime(2026, 12, 1, tzinfo=UTC)
CHANGE_AT = datetime(2026, 11, 28, 12, tzinfo=UTC)  # 2.5 of the period's 30 days left


def _renewals(session, user_id: int) -> list[Invoice]:
    return list(
        session.exec(
            select(Invoice)
            .where(Invoice.user_id == user_id, Invoice.billing_key.like("renewal:%"))
            .order_by(Invoice.id)
        )
    )


def _lines(session, invoice: Invoice) -> list[tuple[str, int]]:
    items = session.exec(
        select(InvoiceItem).where(InvoiceItem.invoice_id == invoice.id).order_by(InvoiceItem.id)
    )
    return [(i.description.split(" 2026")[0], i.amount_minor) for i in items]


def _balance(session, user_id: int) -> int:
    return credits.balance_minor(session, user_id=user_id, currency="USD")


def _renewed_ahead(session, clock, code: str, *, paid: bool):
    """A customer on `code` since Nov 1, whose December renewal was invoiced on Nov 24 (and, when
    `paid`, paid at once from account credit). The clock ends at the change time."""
    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    user = add_customer(session)
    ensure_profile(session, user_id=user.id, anchor_day=1)
    session.commit()
    sub, order = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, code).id)
    invoices.create_credit_note(
        session, invoice=order, amount_minor=order.total_minor, reason="free November"
    )
    clock.set(datetime(2026, 11, 24, tzinfo=UTC))
    [renewal_id] = runs.invoice_renewals(session)
    renewal = session.get(Invoice, renewal_id)
    assert renewal.due_at == DEC_1 and renewal.status is InvoiceStatus.OPEN
    if paid:
        credits.add_entry(
            session,
            user_id=user.id,
            kind=CreditKind.TOP_UP,
            amount_minor=renewal.total_minor,
            currency="USD",
            memo="prepaid",
        )
        invoices.apply_credit(session, renewal)
        session.commit()
        assert renewal.status is InvoiceStatus.PAID and _balance(session, user.id) == 0
    clock.set(CHANGE_AT)
    return user, sub, renewal


def _cancel(session, sub):
    subscriptions.cancel(session, subscription=sub, at_period_end=True)


def _to(code):
    def change(session, sub):
        proration = subscriptions.change_plan(session, subscription=sub, plan_id=plan(session, code).id)
        if proration is not None:  # an upgrade's current-period part, still to the second
            assert proration.total_minor == 75  # (15.00 − 6.00) × 2.5 / 30 days
        else:
            assert _balance(session, sub.user_id) >= 75

    return change


# (starting plan, change, paid ahead?, old renewal's end state, lines of the December renewal
#  that now stands (None: none), account credit after the change)
CASES = [
    ("vps-1", _cancel, False, InvoiceStatus.VOID, None, 0),
    ("vps-1", _cancel, True, InvoiceStatus.PAID, None, 600),
    ("vps-1", _to("vps-2"), False, InvoiceStatus.VOID, [("VPS 2", 1500)], 0),
    ("vps-1", _to("vps-2"), True, InvoiceStatus.PAID, [("VPS 2", 1500)], 0),
    ("vps-2", _to("vps-1"), False, InvoiceStatus.VOID, [("VPS 1", 600)], 75),
    ("vps-2", _to("vps-1"), True, InvoiceStatus.PAID, [("VPS 1", 600)], 75 + 900),
]


@pytest.mark.parametrize(
    ("code", "change", "paid", "old_status", "standing", "balance"),
    CASES,
    ids=[
        "cancel-unpaid",
        "cancel-paid",
        "upgrade-unpaid",
        "upgrade-paid",
        "downgrade-unpaid",
        "downgrade-paid",
    ],
)
def test_changes_inside_the_invoice_ahead_window(
    make_tenant, clock, code, change, paid, old_status, standing, balance
):
    tenant = TenantInfo.of(make_tenant("ahead"))
    with tenant_db(tenant) as session:
        user, sub, renewal = _renewed_ahead(session, clock, code, paid=paid)
        before = _lines(session, renewal)
        change(session, sub)
        session.refresh(renewal)
        assert renewal.status is old_status
        assert _lines(session, renewal) == before  # issued invoices are never edited
        notes = session.exec(select(Invoice).where(Invoice.credits_invoice_id == renewal.id)).all()
        assert [n.total_minor for n in notes] == ([renewal.total_minor] if paid else [])
        live = [
            i
            for i in _renewals(session, user.id)
            if i.status is not InvoiceStatus.VOID and i.id != renewal.id
        ]
        assert [_lines(session, i) for i in live] == ([standing] if standing else [])
        mailed = session.exec(select(TenantMail.subject).where(TenantMail.kind == "invoice")).all()
        for new in live:
            assert new.due_at == DEC_1 and new.number and new.number != renewal.number
            assert [s for s in mailed if new.number in s]  # the customer is sent the new renewal
            # A paid renewal's credit pays the new one at once: only an upgrade's difference is due.
            assert invoices.amount_due(new) == (
                900 if paid and code == "vps-1" else 0 if paid else new.total_minor
            )
        assert _balance(session, user.id) == balance
        session.refresh(sub)
        assert sub.invoiced_through == (DEC_1 if change is _cancel else datetime(2027, 1, 1, tzinfo=UTC))
        kinds = session.exec(
            select(BillingEvent.kind).where(
                BillingEvent.user_id == user.id, BillingEvent.created_at == CHANGE_AT
            )
        ).all()
        assert "renewal_revised" in kinds and ("credit_note" in kinds) == paid
        assert ("invoice_void" in kinds) == (not paid)

        # The billing run on Dec 1 charges nothing old again and bills nothing twice.
        clock.set(DEC_1 + timedelta(hours=1))
        runs.daily_run(session, tenant=tenant)
        session.refresh(sub)
        if change is _cancel:
            assert sub.status is SubscriptionStatus.CANCELLED
        assert len([i for i in _renewals(session, user.id) if i.status is not InvoiceStatus.VOID]) == len(
            live
        ) + (1 if paid else 0)


def test_a_second_change_follows_the_first(make_tenant, clock):
    """Upgrade then cancel, in the window: the re-issued renewal is voided in its turn."""
    tenant = TenantInfo.of(make_tenant("ahead"))
    with tenant_db(tenant) as session:
        user, sub, _ = _renewed_ahead(session, clock, "vps-1", paid=False)
        _to("vps-2")(session, sub)
        clock.advance(timedelta(hours=1))
        _cancel(session, sub)
        assert [i.status for i in _renewals(session, user.id)] == [InvoiceStatus.VOID, InvoiceStatus.VOID]


def test_a_renewal_shared_with_another_subscription_is_reissued_without_the_cancelled_one(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("ahead"))
    with tenant_db(tenant) as session:
        clock.set(datetime(2026, 11, 1, tzinfo=UTC))
        user = add_customer(session)
        ensure_profile(session, user_id=user.id, anchor_day=1)
        session.commit()
        keep, _ = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-2").id)
        drop, _ = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        clock.set(datetime(2026, 11, 24, tzinfo=UTC))
        [renewal_id] = runs.invoice_renewals(session)
        clock.set(CHANGE_AT)
        _cancel(session, drop)
        old, new = _renewals(session, user.id)
        assert old.id == renewal_id and old.status is InvoiceStatus.VOID
        assert _lines(session, new) == [("VPS 2", 1500)] and new.status is InvoiceStatus.OPEN
        assert session.get(Subscription, keep.id).invoiced_through == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_card_paid_renewal_gets_a_credit_note_on_downgrade(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("ahead"))
    with tenant_db(tenant) as session:
        clock.set(datetime(2026, 11, 1, tzinfo=UTC))
        user = add_customer(session)
        ensure_profile(session, user_id=user.id, anchor_day=1)
        add_card(session, tenant, user.id)
        sub, order = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-2").id)
        invoices.create_credit_note(session, invoice=order, amount_minor=order.total_minor, reason="free")
        clock.set(datetime(2026, 11, 24, tzinfo=UTC))
        [renewal_id] = runs.invoice_renewals(session)
        renewal = session.get(Invoice, renewal_id)
        payments.charge_invoice(session, tenant=tenant, invoice=renewal)  # "Pay now", ahead of Dec 1
        assert renewal.status is InvoiceStatus.PAID and renewal.amount_paid_minor == 1500
        clock.set(CHANGE_AT)
        _to("vps-1")(session, sub)
        session.refresh(renewal)
        assert renewal.status is InvoiceStatus.PAID and renewal.credited_minor == 1500
        [new] = [i for i in _renewals(session, user.id) if i.id != renewal.id]
        assert new.status is InvoiceStatus.PAID and new.total_minor == 600
        assert _balance(session, user.id) == 75 + 900
        [paid] = session.exec(select(Payment).where(Payment.status == PaymentStatus.SUCCEEDED)).all()
        # The card money stays (as account credit); a card refund now would exceed what is left.
        assert invoices.returnable_minor(session, renewal) == 0
        assert paid.refunded_minor == 0


def test_dunning_termination_voids_renewals_issued_before_it(make_tenant, clock):
    """An order never paid: termination on Dec 1 voids the December renewal issued on Nov 24."""
    tenant = TenantInfo.of(make_tenant("ahead"))
    with tenant_db(tenant) as session:
        clock.set(datetime(2026, 11, 1, tzinfo=UTC))
        user = add_customer(session)
        ensure_profile(session, user_id=user.id, anchor_day=1)
        session.commit()
        sub, order = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        clock.set(datetime(2026, 11, 24, tzinfo=UTC))
        [renewal_id] = runs.invoice_renewals(session)
        clock.set(DEC_1 + timedelta(hours=1))
        report = runs.daily_run(session, tenant=tenant)
        assert report.dunning.terminated == 1
        session.refresh(sub)
        assert sub.status is SubscriptionStatus.CANCELLED
        assert session.get(Invoice, renewal_id).status is InvoiceStatus.VOID
        assert session.get(Invoice, order.id).status is InvoiceStatus.OPEN  # the dunned debt stays
        assert [i.kind for i in _renewals(session, user.id)] == [InvoiceKind.INVOICE]
