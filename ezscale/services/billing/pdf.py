"""Invoice PDF, drawn with reportlab (no system libraries) in the tenant's branding."""

from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from sqlmodel import Session

from ezscale.models.tenant import Invoice, InvoiceKind
from ezscale.money import Money
from ezscale.services.billing import invoices
from ezscale.services.tenancy import BrandingInfo


def render_invoice(session: Session, invoice: Invoice, *, branding: BrandingInfo) -> bytes:
    """One A4 page per invoice (more as lines need); totals exactly as stored."""
    out = BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    title = "Credit note" if invoice.kind is InvoiceKind.CREDIT_NOTE else "Invoice"
    pdf.setTitle(f"{title} {invoice.number}")
    money = lambda minor: Money(minor, invoice.currency).format()  # noqa: E731

    pdf.setFillColor(colors.HexColor(branding.primary_color))
    pdf.rect(0, height - 30 * mm, width, 30 * mm, stroke=0, fill=1)
    pdf.setFillColor(colors.white)
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(20 * mm, height - 18 * mm, branding.company_name)
    pdf.setFont("Helvetica", 10)
    if branding.support_email:
        pdf.drawRightString(width - 20 * mm, height - 18 * mm, branding.support_email)

    pdf.setFillColor(colors.black)
    y = height - 45 * mm
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(20 * mm, y, f"{title} {invoice.number}")
    pdf.setFont("Helvetica", 10)
    y -= 7 * mm
    pdf.drawString(20 * mm, y, f"Issued {invoice.issued_at:%Y-%m-%d}   Due {invoice.due_at:%Y-%m-%d}")
    pdf.drawRightString(width - 20 * mm, y, f"Status: {invoice.status.value}")
    y -= 10 * mm
    for line in (invoice.bill_to or "").splitlines():
        pdf.drawString(20 * mm, y, line)
        y -= 5 * mm

    y -= 6 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(20 * mm, y, "Description")
    pdf.drawRightString(135 * mm, y, "Qty")
    pdf.drawRightString(160 * mm, y, "Unit")
    pdf.drawRightString(width - 20 * mm, y, "Amount")
    pdf.setFont("Helvetica", 10)
    for item in invoices.lines(session, invoice):
        y -= 6 * mm
        if y < 40 * mm:
            pdf.showPage()
            pdf.setFont("Helvetica", 10)
            y = height - 25 * mm
        pdf.drawString(20 * mm, y, item.description[:70])
        pdf.drawRightString(135 * mm, y, f"{item.quantity.normalize():f}")
        pdf.drawRightString(160 * mm, y, money(item.unit_minor))
        pdf.drawRightString(width - 20 * mm, y, money(item.amount_minor))

    y -= 12 * mm
    rows = [("Subtotal", invoice.subtotal_minor)]
    if invoice.tax_label or invoice.tax_minor:
        rows.append((invoice.tax_label or "Tax", invoice.tax_minor))
    rows.append(("Total", invoice.total_minor))
    if invoice.credit_applied_minor:
        rows.append(("Account credit applied", -invoice.credit_applied_minor))
    if invoice.amount_paid_minor:
        rows.append(("Paid by card", -invoice.amount_paid_minor))
    if invoice.credited_minor:
        rows.append(("Credit notes", -invoice.credited_minor))
    rows.append(("Amount due", invoices.amount_due(invoice)))
    for label, amount in rows:
        pdf.setFont("Helvetica-Bold" if label in ("Total", "Amount due") else "Helvetica", 10)
        pdf.drawRightString(160 * mm, y, label)
        pdf.drawRightString(width - 20 * mm, y, money(amount))
        y -= 6 * mm
    if invoice.reverse_charge:
        pdf.setFont("Helvetica-Oblique", 9)
        pdf.drawString(20 * mm, y - 4 * mm, "VAT reverse charge: the customer accounts for VAT.")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
