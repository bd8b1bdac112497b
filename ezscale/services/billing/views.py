"""What the customer billing pages show, as plain display rows (no Reflex here)."""

from dataclasses import dataclass

from sqlmodel import Session

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.billing import PaymentMethod
from ezscale.models.tenant import Invoice, InvoiceStatus, Plan, Subscription, User
from ezscale.models.types import existing, row_id
from ezscale.money import Money
from ezscale.services.billing import credits, invoices, orders, payments, subscriptions
from ezscale.services.billing.pdf import render_invoice
from ezscale.services.billing.profiles import current_anchor_day
from ezscale.services.fx.currencies import customer_currency
from ezscale.services.fx.rates import RatesUnavailable
from ezscale.services.kasm.credit import accrued_usage, usage_invoice_date
from ezscale.services.payments.gateway import LABELS
from ezscale.services.tenancy.branding import get_branding
from ezscale.services.tenancy.tenants import BrandingInfo, TenantInfo
from ezscale.settings import get_settings


@dataclass(frozen=True)
class InvoiceRow:
    """One invoice as the invoice list shows it (formatted text)."""

    id: int
    number: str
    kind: str
    status: str
    issued: str
    due: str
    total: str
    amount_due: str
    payable: bool


@dataclass(frozen=True)
class LineRow:
    """One invoice line, formatted."""

    description: str
    quantity: str
    amount: str


@dataclass(frozen=True)
class InvoiceDetail:
    """The invoice page: its row, who it is billed to, lines and totals."""

    row: InvoiceRow
    bill_to: str
    lines: list[LineRow]
    subtotal: str
    tax_label: str
    tax: str
    credit_applied: str
    paid: str


@dataclass(frozen=True)
class CreditRow:
    """One credit ledger entry, formatted."""

    when: str
    kind: str
    memo: str
    amount: str


@dataclass(frozen=True)
class CardRow:
    """One saved card, as the billing page lists it."""

    id: int
    label: str
    expires: str
    is_default: bool


@dataclass(frozen=True)
class UpcomingRow:
    """A subscription's next renewal, or the workspace usage so far, and its amount."""

    plan: str
    next_date: str
    amount: str
    running: bool = False  # workspace usage that still grows: the page refreshes it


@dataclass(frozen=True)
class Overview:
    """Everything the customer's billing page shows."""

    balance: str
    invoices: list[InvoiceRow]
    credit_history: list[CreditRow]
    cards: list[CardRow]
    upcoming: list[UpcomingRow]


def _fmt(minor: int, currency: str) -> str:
    return Money(minor, currency).format()


def invoice_row(invoice: Invoice) -> InvoiceRow:
    """Format an invoice for the invoice list."""
    due = invoices.amount_due(invoice)
    return InvoiceRow(
        id=row_id(invoice),
        number=invoice.number or "",
        kind=invoice.kind.value.replace("_", " "),
        status=invoice.status.value,
        issued=f"{invoice.issued_at:%Y-%m-%d}" if invoice.issued_at else "",
        due=f"{invoice.due_at:%Y-%m-%d}" if invoice.due_at else "",
        total=_fmt(invoice.total_minor, invoice.currency),
        amount_due=_fmt(due, invoice.currency),
        payable=invoice.status is InvoiceStatus.OPEN and due > 0,
    )


def _card_row(method: PaymentMethod) -> CardRow:
    if method.gateway != "stripe":  # a saved wallet (PayPal): no number, no expiry
        return CardRow(row_id(method), LABELS.get(method.gateway, method.gateway), "", method.is_default)
    label = f"{method.brand.title()} •••• {method.last4}"
    return CardRow(row_id(method), label, f"{method.exp_month:02d}/{method.exp_year}", method.is_default)


def default_method_label(session: Session, *, user_id: int) -> str:
    """The customer's default payment method as pages name it ("" when there is none)."""
    method = payments.default_card(session, user_id=user_id)
    return _card_row(method).label if method is not None else ""


@dataclass(frozen=True)
class OrderQuoteRow:
    """A plan's order quote as the order page shows it (formatted text)."""

    code: str
    name: str
    description: str
    kind: str
    interval: str
    recurring: str
    setup: str
    period: str
    first: str
    tax_label: str
    tax: str
    total: str
    credit: str
    due_now: str
    trial: str  # "14-day free trial, then €9.00/mo; card required", or ""
    trial_note: str  # what the trial charges, and when ("" without one)
    default_method: str  # the card (or wallet) charged, "" when none is saved


def order_quote_row(quote: orders.Quote, *, default_method: str = "") -> OrderQuoteRow:
    """Format an order quote for the order page."""
    currency = quote.currency
    return OrderQuoteRow(
        code=quote.plan_code,
        name=quote.plan_name,
        description=quote.description,
        kind=quote.kind,
        interval=quote.interval,
        recurring=quote.recurring,
        setup=_fmt(quote.setup_minor, currency),
        period=f"{quote.period_start:%Y-%m-%d} – {quote.period_end:%Y-%m-%d}",
        first=_fmt(quote.period_minor, currency),
        tax_label=quote.tax_label or "Tax",
        tax=_fmt(quote.tax_minor, currency),
        total=_fmt(quote.total_minor, currency),
        credit=_fmt(quote.credit_minor, currency),
        due_now=_fmt(quote.due_now_minor, currency),
        trial=quote.trial,
        trial_note=quote.trial_note(),
        default_method=default_method,
    )


def order_quote(session: Session, *, user_id: int, plan_code: str) -> OrderQuoteRow:
    """What ordering `plan_code` now costs the customer, and the payment method it would charge."""
    quote = orders.quote(session, user_id=user_id, plan_code=plan_code)
    return order_quote_row(quote, default_method=default_method_label(session, user_id=user_id))


def overview(session: Session, *, tenant: TenantInfo, user_id: int) -> Overview:
    """The customer's billing page: balance, invoices, credit history, cards and upcoming renewals."""
    currency = customer_currency(session, existing(session, User, user_id))
    return Overview(
        balance=_fmt(credits.balance_minor(session, user_id=user_id, currency=currency), currency),
        invoices=[invoice_row(i) for i in invoices.list_invoices(session, user_id=user_id)],
        credit_history=[
            CreditRow(
                f"{e.created_at:%Y-%m-%d}",
                e.kind.value.replace("_", " "),
                e.memo,
                _fmt(e.amount_minor, e.currency),
            )
            for e in credits.history(session, user_id=user_id, limit=50)
        ],
        cards=[_card_row(c) for c in payments.list_cards(session, user_id=user_id)],
        upcoming=[
            UpcomingRow(
                f"{plan.name} — first charge, when the free trial ends" if _trialing(sub) else plan.name,
                f"{sub.invoiced_through:%Y-%m-%d}" if sub.invoiced_through else "",
                _renewal_price(session, user_id=user_id, plan=plan, setup=_trialing(sub)),
            )
            for sub, plan in subscriptions.upcoming(session, user_id=user_id)
            if not sub.cancel_at_period_end
        ]
        # Hourly usage is billed in the customer's currency too (ezscale/services/kasm/ledger.py).
        + usage_rows(session, user_id=user_id, currency=currency),
    )


def usage_rows(session: Session, *, user_id: int, currency: str) -> list[UpcomingRow]:
    """Workspace usage accrued and not invoiced yet (running sessions up to now), with the
    billing date its invoice is made; none when there is no usage."""
    now = clock.now()
    accrued = accrued_usage(session, user_id=user_id, currency=currency, now=now)
    if accrued.first_end is None or (not accrued.total_minor and not accrued.running):
        return []
    on = usage_invoice_date(accrued.first_end, anchor_day=current_anchor_day(session, user_id=user_id))
    label = "Workspace usage so far" + (f" (running, as of {now:%H:%M} UTC)" if accrued.running else "")
    return [UpcomingRow(label, f"{on:%Y-%m-%d}", _fmt(accrued.total_minor, currency), accrued.running)]


def _trialing(sub: Subscription) -> bool:
    return sub.trial_ends_at is not None and clock.now() < sub.trial_ends_at


def _renewal_price(session: Session, *, user_id: int, plan: Plan, setup: bool = False) -> str:
    """What the next renewal costs in the customer's currency at today's rate (the plan's own
    price while no rate is known); with `setup`, the setup fee too (the first charge after a
    free trial)."""
    try:
        price = subscriptions.customer_pricing(session, user_id=user_id, plan=plan)
    except RatesUnavailable:
        return _fmt(plan.price_minor + (plan.setup_fee_minor if setup else 0), plan.currency)
    return _fmt(price.price_minor + (price.setup_fee_minor if setup else 0), price.currency)


def detail(session: Session, *, user_id: int, invoice_id: int) -> InvoiceDetail:
    """One of the customer's invoices in full; NotFound for another customer's invoice."""
    invoice = invoices.get_invoice(session, invoice_id=invoice_id, user_id=user_id)
    fmt = lambda minor: _fmt(minor, invoice.currency)  # noqa: E731
    return InvoiceDetail(
        row=invoice_row(invoice),
        bill_to=invoice.bill_to,
        lines=[
            LineRow(i.description, f"{i.quantity.normalize():f}", fmt(i.amount_minor))
            for i in invoices.lines(session, invoice)
        ],
        subtotal=fmt(invoice.subtotal_minor),
        tax_label=invoice.tax_label or "Tax",
        tax=fmt(invoice.tax_minor),
        credit_applied=fmt(invoice.credit_applied_minor),
        paid=fmt(invoice.amount_paid_minor),
    )


def invoice_pdf(session: Session, *, tenant: TenantInfo, user_id: int, invoice_id: int) -> tuple[str, bytes]:
    """(file name, PDF bytes) of one of the customer's invoices, in the tenant's branding."""
    invoice = invoices.get_invoice(session, invoice_id=invoice_id, user_id=user_id)
    with central_session() as central:
        branding = BrandingInfo.of(get_branding(central, tenant_id=tenant.id))
    return f"{invoice.number}.pdf", render_invoice(session, invoice, branding=branding)


def stripe_js_url() -> str:
    """Stripe.js, or localstripe's shim of it when the API points at the simulator."""
    base = get_settings().stripe_api_base
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"
