"""Customer invoice and credit note PDFs, in the tenant's branding."""

from sqlmodel import Session

from ezscale.models.tenant import Invoice, InvoiceKind
from ezscale.services.billing import invoices
from ezscale.services.core.pdf import Document, DocumentLine, render
from ezscale.services.tenancy.tenants import BrandingInfo


def render_invoice(session: Session, invoice: Invoice, *, branding: BrandingInfo) -> bytes:
    """Totals exactly as stored on the invoice."""
    totals = [("Subtotal", invoice.subtotal_minor, False)]
    if invoice.tax_label or invoice.tax_minor:
        totals.append((invoice.tax_label or "Tax", invoice.tax_minor, False))
    totals.append(("Total", invoice.total_minor, True))
    if invoice.credit_applied_minor:
        totals.append(("Account credit applied", -invoice.credit_applied_minor, False))
    if invoice.amount_paid_minor:
        totals.append(("Paid by card", -invoice.amount_paid_minor, False))
    if invoice.credited_minor:
        totals.append(("Credit notes", -invoice.credited_minor, False))
    totals.append(("Amount due", invoices.amount_due(invoice), True))
    doc = Document(
        title="Credit note" if invoice.kind is InvoiceKind.CREDIT_NOTE else "Invoice",
        number=invoice.number or "",  # PDFs are of issued invoices, which are numbered
        dates=f"Issued {invoice.issued_at:%Y-%m-%d}   Due {invoice.due_at:%Y-%m-%d}",
        status=invoice.status.value,
        currency=invoice.currency,
        bill_to=invoice.bill_to or "",
        lines=[
            DocumentLine(item.description, item.quantity, item.unit_minor, item.amount_minor)
            for item in invoices.lines(session, invoice)
        ],
        totals=totals,
        notes=["VAT reverse charge: the customer accounts for VAT."] if invoice.reverse_charge else [],
    )
    return render(doc, branding=branding)
