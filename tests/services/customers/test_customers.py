"""Admin customer management across tenants: search, record and timeline, audited actions."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

import pytest
from sqlmodel import select

from ezscale.errors import DomainError, NotFound
from ezscale.models.auth import AuditEntry
from ezscale.models.billing import BillingEvent, Payment, RefundRequest
from ezscale.models.kasm import KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import CreditEntry, Invoice, ServiceStatus, User
from ezscale.services.accounts.sessions import AuthUser, current_user
from ezscale.services.billing import payments
from ezscale.services.billing.stripe_gateway import gateway
from ezscale.services.customers import actions
from ezscale.services.customers.directory import customer_record, search_customers
from ezscale.services.customers.view import record_view
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.factories import add_card, add_customer, on_account
from tests.services.analytics.dataset import build

FORM_A, FORM_B = "refund-form-aaaa", "refund-form-bbbb"  # refund forms' one-time keys
ADMIN = AuthUser(id=1, tenant_id=1, email="admin@example.test", name="Admin", role="platform_admin")


def _user_id(tenant, email):
    with tenant_session(tenant) as db:
        return db.exec(select(User.id).where(User.email == email)).one()


def test_search_spans_tenants_with_a_tenant_column(central, make_tenant, clock):
    _, acme = build(central, make_tenant)
    rows = search_customers(central, query="example.test")
    assert len(rows) == 7 + 3
    assert {(r.tenant_slug, r.email) for r in rows if r.email.startswith(("ivy", "gina"))} == {
        ("acme", "ivy@example.test"),
        ("house", "gina@example.test"),
    }
    assert [r.email for r in search_customers(central, query="IVY")] == ["ivy@example.test"]
    assert [r.tenant_slug for r in search_customers(central, query="", tenant_id=acme.id)] == ["acme"] * 3


def test_record_and_unified_timeline(central, make_tenant, clock):
    house, _ = build(central, make_tenant)
    alice = _user_id(house, "alice@example.test")
    actions.add_note(actor=ADMIN, tenant=house, user_id=alice, body="Called about the upgrade")
    clock.advance(timedelta(minutes=1))
    actions.add_credit(actor=ADMIN, tenant=house, user_id=alice, amount_minor=500, memo="Goodwill")
    record = customer_record(central, tenant=house, user_id=alice)
    assert record.user.email == "alice@example.test"
    assert [(s.id, p.code) for s, p in record.services] == [(record.services[0][0].id, "dedi-e3")]
    assert sorted(i.number for i in record.invoices) == ["INV-2", "INV-5"]
    assert record.credit_balance_minor == 500
    kinds = [item.kind for item in record.timeline]
    assert kinds[0] == "admin"  # the credit, newest first
    assert {"signup", "service", "invoice", "payment", "note", "admin"} <= set(kinds)
    assert any("Invoice INV-2 paid" in item.text for item in record.timeline)
    assert [item.at for item in record.timeline] == sorted(
        (item.at for item in record.timeline), reverse=True
    )
    view = record_view(record)
    assert view.profile.balance == "$5.00" and view.profile.tenant == "House (house)"
    assert view.invoices[0].total == "$15.00"
    assert view.timeline[0].text.startswith("admin@example.test: customer.credit")
    with pytest.raises(NotFound):
        customer_record(central, tenant=house, user_id=9999)


def test_actions_are_checked_applied_and_audited(central, make_tenant, clock):
    house, acme = build(central, make_tenant)
    bob = _user_id(house, "bob@example.test")
    number = actions.charge(actor=ADMIN, tenant=house, user_id=bob, amount_minor=1250, description="Extra IP")
    with tenant_session(house) as db:
        invoice = db.exec(select(Invoice).where(Invoice.number == number)).one()
        assert (invoice.user_id, invoice.status.value, invoice.subtotal_minor) == (bob, "open", 1250)
        paid = db.exec(select(Invoice).where(Invoice.number == "INV-1")).one()
    note = actions.credit_note(
        actor=ADMIN, tenant=house, user_id=bob, invoice_id=paid.id, amount_minor=2500, reason="SLA"
    )
    with tenant_session(house) as db:
        assert db.exec(select(CreditEntry.amount_minor).where(CreditEntry.user_id == bob)).all() == [2500]
    with pytest.raises(DomainError):
        actions.add_credit(actor=ADMIN, tenant=house, user_id=bob, amount_minor=-9999, memo="too much")

    record = customer_record(central, tenant=house, user_id=bob)
    ((service, _),) = record.services
    assert (
        actions.change_service(
            actor=ADMIN, tenant=house, user_id=bob, service_id=service.id, action="suspend"
        )
        is ServiceStatus.SUSPENDED
    )
    with pytest.raises(DomainError, match="suspended service cannot be suspended"):
        actions.change_service(
            actor=ADMIN, tenant=house, user_id=bob, service_id=service.id, action="suspend"
        )
    actions.change_service(actor=ADMIN, tenant=house, user_id=bob, service_id=service.id, action="unsuspend")
    assert (
        actions.change_service(
            actor=ADMIN, tenant=house, user_id=bob, service_id=service.id, action="terminate"
        )
        is ServiceStatus.TERMINATED
    )
    with pytest.raises(NotFound):  # a service of another customer
        actions.change_service(
            actor=ADMIN,
            tenant=acme,
            user_id=_user_id(acme, "ivy@example.test"),
            service_id=service.id,
            action="suspend",
        )

    with pytest.raises(DomainError, match="no two-factor"):
        actions.reset_two_factor(actor=ADMIN, tenant=house, user_id=bob)
    with tenant_session(house) as db:
        user = db.get(User, bob)
        user.totp_secret, user.totp_enabled_at = "JBSWY3DPEHPK3PXP", clock.now()
        db.add(user)
        db.commit()
    actions.reset_two_factor(actor=ADMIN, tenant=house, user_id=bob)
    with tenant_session(house) as db:
        assert db.get(User, bob).totp_enabled_at is None

    token = actions.impersonate(actor=ADMIN, tenant=house, user_id=bob, ip="10.0.0.1")
    assert current_user(tenant=house, token=token).email == "bob@example.test"
    clock.advance(timedelta(minutes=61))  # impersonation sessions last an hour
    assert current_user(tenant=house, token=token) is None
    central.expire_all()
    audit = [e.action for e in central.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert audit == [
        "customer.charge", "customer.credit_note", "service.suspend", "service.unsuspend",
        "service.terminate", "customer.reset_2fa", "customer.impersonate",
    ]  # fmt: skip
    assert note.startswith("CN")


def test_suspending_a_running_workspace_stops_it(central, make_tenant, clock):
    house, _ = build(central, make_tenant)
    frank = _user_id(house, "frank@example.test")
    with tenant_session(house) as db:
        ws = db.exec(select(KasmWorkspace).where(KasmWorkspace.user_id == frank)).one()
        ws.status = WorkspaceStatus.RUNNING
        db.add(ws)
        db.commit()
    status = actions.change_service(
        actor=ADMIN, tenant=house, user_id=frank, service_id=ws.service_id, action="suspend"
    )
    assert status is ServiceStatus.SUSPENDED
    with tenant_session(house) as db:
        ws = db.get(KasmWorkspace, ws.id)
        assert (ws.status, ws.status_reason) == (WorkspaceStatus.STOPPING, "Suspended by staff")


def test_refunding_a_card_payment_is_checked_shown_and_audited(central, make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("refunds"))
    other = TenantInfo.of(make_tenant("other"))
    with tenant_session(tenant) as db:
        user = add_customer(db)
        add_card(db, tenant, user.id)
        payment = payments.top_up(db, tenant=tenant, user_id=user.id, amount_minor=5000)
        user_id, payment_id = user.id, payment.id
    with tenant_session(other) as db:
        stranger = add_customer(db).id
    refund = partial(actions.refund, actor=ADMIN, payment_id=payment_id)
    for tenant_, customer, amount, reason, key, error in (
        (tenant, user_id, 1000, "  ", FORM_A, DomainError),  # no reason given
        (tenant, user_id, 5001, "asked", FORM_A, DomainError),  # more than was paid
        (tenant, user_id, 0, "asked", FORM_A, DomainError),
        (tenant, user_id, 1000, "asked", "", DomainError),  # no form key (not sent from the form)
        (tenant, user_id + 1, 1000, "asked", FORM_A, NotFound),  # not this customer's payment
        (other, stranger, 1000, "asked", FORM_A, NotFound),  # the same id in another tenant
    ):
        with pytest.raises(error):
            refund(tenant=tenant_, user_id=customer, amount_minor=amount, reason=reason, request_key=key)
    refund(tenant=tenant, user_id=user_id, amount_minor=1500, reason="asked", request_key=FORM_A)
    with pytest.raises(DomainError, match="between 0 and what is left"):  # only 3,500 left
        refund(tenant=tenant, user_id=user_id, amount_minor=3501, reason="again", request_key=FORM_B)
    with pytest.raises(DomainError, match="already used"):  # a used form's key, for another refund
        refund(tenant=tenant, user_id=user_id, amount_minor=1000, reason="again", request_key=FORM_A)
    [row] = record_view(customer_record(central, tenant=tenant, user_id=user_id)).payments
    assert (row.id, row.invoice, row.amount, row.refunded) == (
        payment_id,
        "top-up",
        "$50.00",
        "$15.00",
    )
    refunds = gateway().client.v1.refunds.list(
        {"payment_intent": payment.stripe_payment_intent_id}, on_account(tenant)
    )
    assert [r.amount for r in refunds.data] == [1500]
    [entry] = central.exec(select(AuditEntry).where(AuditEntry.action == "customer.refund")).all()
    assert json.loads(entry.after)["amount_minor"] == 1500


def test_the_same_refund_form_sent_twice_at_once_refunds_once(central, make_tenant, clock, stripe_env):
    """Two tabs (or a double click) send one refund form at the same moment, both refunds
    fitting what was paid: one refund at Stripe, one record, one audit row. A new form (its own
    key) refunds again."""
    tenant = TenantInfo.of(make_tenant("twice"))
    with tenant_session(tenant) as db:
        user = add_customer(db)
        add_card(db, tenant, user.id)
        payment = payments.top_up(db, tenant=tenant, user_id=user.id, amount_minor=5000)
        user_id, payment_id, intent = user.id, payment.id, payment.stripe_payment_intent_id
    send = partial(
        actions.refund, actor=ADMIN, tenant=tenant, user_id=user_id, payment_id=payment_id, reason="asked"
    )
    start = threading.Barrier(2)

    def click() -> None:
        start.wait()
        send(amount_minor=1000, request_key=FORM_A)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(click) for _ in range(2)]:
            done.result(timeout=60)  # neither is refused: the second finds the form carried out

    def at_stripe() -> list[int]:
        refunds = gateway().client.v1.refunds.list({"payment_intent": intent}, on_account(tenant))
        return [r.amount for r in refunds.data]

    def recorded() -> tuple[int, int, int]:
        with tenant_session(tenant) as db:
            forms = len(db.exec(select(RefundRequest)).all())
            timeline = len(db.exec(select(BillingEvent).where(BillingEvent.kind == "refund")).all())
            return db.get(Payment, payment_id).refunded_minor, forms, timeline

    def audited() -> int:
        return len(central.exec(select(AuditEntry).where(AuditEntry.action == "customer.refund")).all())

    assert (at_stripe(), recorded(), audited()) == ([1000], (1000, 1, 1), 1)
    send(amount_minor=1000, request_key=FORM_B)
    assert (at_stripe(), recorded(), audited()) == ([1000, 1000], (2000, 2, 2), 2)
