"""Invoices: issuing, numbering, tax, immutability, credit notes, credit before card."""

from decimal import Decimal

import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.billing import ImmutableInvoiceError
from ezscale.models.tenant import CreditKind, InvoiceItem, InvoiceKind, InvoiceStatus
from ezscale.services.billing import credits, invoices
from ezscale.services.billing.tax import set_tax_rate
from tests.factories import add_customer, tenant_db


def _invoice(session, user_id, *amounts, currency="USD"):
    invoice = invoices.create_draft(session, user_id=user_id, currency=currency)
    for n, amount in enumerate(amounts):
        invoices.add_line(session, invoice, description=f"line {n}", unit_minor=amount)
    invoices.issue(session, invoice)
    session.commit()
    return invoice


def test_issue_numbers_taxes_and_snapshots(make_tenant, clock):
    with tenant_db(make_tenant("inv")) as session:
        set_tax_rate(session, country="DE", rate_percent=Decimal("19"))
        german = add_customer(session, "de@example.test", country="DE", company="GmbH")
        first = _invoice(session, german.id, 1000, 999)
        second = _invoice(session, german.id, 1)
        assert (first.number, second.number) == ("INV-000001", "INV-000002")
        assert first.subtotal_minor == 1999 and first.tax_minor == 380  # 379.81 rounds half-up
        assert first.total_minor == 2379 and first.tax_label == "VAT 19%"
        assert first.status is InvoiceStatus.OPEN and "GmbH" in first.bill_to


def test_reverse_charge_for_foreign_business(make_tenant, clock):
    with tenant_db(make_tenant("inv")) as session:
        set_tax_rate(session, country="FR", rate_percent=Decimal("20"))
        business = add_customer(session, "fr@example.test", country="FR", tax_id="FR123")
        invoice = _invoice(session, business.id, 10000)
        assert invoice.tax_minor == 0 and invoice.reverse_charge
        assert invoice.total_minor == 10000 and "Reverse charge" in invoice.tax_label


def test_issued_invoice_is_immutable(make_tenant, clock):
    with tenant_db(make_tenant("inv")) as session:
        user = add_customer(session)
        invoice = _invoice(session, user.id, 500)
        with pytest.raises(DomainError):
            invoices.add_line(session, invoice, description="more", unit_minor=1)
        invoice.total_minor = 1
        with pytest.raises(ImmutableInvoiceError):
            session.commit()
        session.rollback()
        item = session.exec(select(InvoiceItem).where(InvoiceItem.invoice_id == invoice.id)).one()
        item.amount_minor = 1
        with pytest.raises(ImmutableInvoiceError):
            session.commit()
        session.rollback()
        session.add(InvoiceItem(invoice_id=invoice.id, description="sneaky", unit_minor=1, amount_minor=1))
        with pytest.raises(ImmutableInvoiceError):
            session.commit()
        session.rollback()
        session.refresh(invoice)
        assert invoice.total_minor == 500
        with pytest.raises(DomainError):
            invoices.issue(session, invoice)


def test_negative_invoice_refused(make_tenant, clock):
    with tenant_db(make_tenant("inv")) as session:
        user = add_customer(session)
        invoice = invoices.create_draft(session, user_id=user.id, currency="USD")
        invoices.add_line(session, invoice, description="credit", unit_minor=-5)
        with pytest.raises(DomainError):
            invoices.issue(session, invoice)
        assert invoice.number is None


def test_credit_is_applied_before_card_and_credit_notes_correct(make_tenant, clock):
    with tenant_db(make_tenant("inv")) as session:
        user = add_customer(session)
        credits.add_entry(
            session, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=300, currency="USD", memo="gift"
        )
        invoice = _invoice(session, user.id, 1000)
        assert invoices.apply_credit(session, invoice) == 300
        assert invoices.apply_credit(session, invoice) == 0
        assert invoices.amount_due(invoice) == 700
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 0

        note = invoices.create_credit_note(session, invoice=invoice, amount_minor=900, reason="outage")
        assert note.kind is InvoiceKind.CREDIT_NOTE and note.number == "CN-000001"
        assert invoice.status is InvoiceStatus.PAID  # 700 due covered, 200 over
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 200
        with pytest.raises(DomainError):
            invoices.create_credit_note(session, invoice=invoice, amount_minor=101, reason="too much")
        paid_note = invoices.create_credit_note(session, invoice=invoice, amount_minor=100, reason="goodwill")
        assert paid_note.number == "CN-000002"
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 300


def test_void_returns_applied_credit(make_tenant, clock):
    with tenant_db(make_tenant("inv")) as session:
        user = add_customer(session)
        credits.add_entry(
            session, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=100, currency="USD", memo="x"
        )
        invoice = _invoice(session, user.id, 1000)
        invoices.apply_credit(session, invoice)
        invoices.void(session, invoice, reason="ordered by mistake")
        assert invoice.status is InvoiceStatus.VOID
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 100
        with pytest.raises(DomainError):
            invoices.void(session, invoice, reason="again")
