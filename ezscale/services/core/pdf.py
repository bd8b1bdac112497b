"""An invoice-like document drawn as PDF with reportlab (no system libraries), in a brand's
colours: customer invoices, credit notes and EZSCALE's wholesale invoices to resellers."""

from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from ezscale.money import Money
from ezscale.services.tenancy.tenants import BrandingInfo


@dataclass(frozen=True)
class DocumentLine:
    """One line of an invoice or credit note PDF."""

    description: str
    quantity: Decimal
    unit_minor: int
    amount_minor: int


@dataclass(frozen=True)
class Document:
    """What goes on an invoice or credit note PDF, amounts already computed."""

    title: str
    number: str
    dates: str
    status: str
    currency: str
    bill_to: str
    lines: list[DocumentLine]
    # (label, amount in minor units, bold) in the order printed under the lines
    totals: list[tuple[str, int, bool]]
    notes: list[str] = field(default_factory=list)


def render(doc: Document, *, branding: BrandingInfo) -> bytes:
    """One A4 page (more as lines need); amounts exactly as given."""
    out = BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    pdf.setTitle(f"{doc.title} {doc.number}")

    def money(minor: int) -> str:
        return Money(minor, doc.currency).format()

    _draw_banner(pdf, branding=branding, width=width, height=height)
    pdf.setFillColor(colors.black)
    y = height - 45 * mm
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(20 * mm, y, f"{doc.title} {doc.number}")
    pdf.setFont("Helvetica", 10)
    y -= 7 * mm
    pdf.drawString(20 * mm, y, doc.dates)
    pdf.drawRightString(width - 20 * mm, y, f"Status: {doc.status}")
    y -= 10 * mm
    for line in doc.bill_to.splitlines():
        pdf.drawString(20 * mm, y, line)
        y -= 5 * mm

    y -= 6 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(20 * mm, y, "Description")
    pdf.drawRightString(135 * mm, y, "Qty")
    pdf.drawRightString(160 * mm, y, "Unit")
    pdf.drawRightString(width - 20 * mm, y, "Amount")
    pdf.setFont("Helvetica", 10)
    for item in doc.lines:
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
    for label, amount, bold in doc.totals:
        pdf.setFont("Helvetica-Bold" if bold else "Helvetica", 10)
        pdf.drawRightString(160 * mm, y, label)
        pdf.drawRightString(width - 20 * mm, y, money(amount))
        y -= 6 * mm
    pdf.setFont("Helvetica-Oblique", 9)
    for note in doc.notes:
        pdf.drawString(20 * mm, y - 4 * mm, note)
        y -= 5 * mm
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _draw_banner(pdf: canvas.Canvas, *, branding: BrandingInfo, width: float, height: float) -> None:
    """The coloured band across the top with the company name and support address."""
    pdf.setFillColor(colors.HexColor(branding.primary_color))
    pdf.rect(0, height - 30 * mm, width, 30 * mm, stroke=0, fill=1)
    pdf.setFillColor(colors.white)
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(20 * mm, height - 18 * mm, branding.company_name)
    pdf.setFont("Helvetica", 10)
    if branding.support_email:
        pdf.drawRightString(width - 20 * mm, height - 18 * mm, branding.support_email)
