"""A customer record as page data (text only; amounts formatted from exact minor units)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from ezscale import routes
from ezscale.errors import DomainError
from ezscale.models.types import row_id
from ezscale.money import Money
from ezscale.services.analytics.view import money
from ezscale.services.customers.actions import allowed_actions
from ezscale.services.customers.directory import CustomerRecord, CustomerRow
from ezscale.services.payments.gateway import LABELS as GATEWAY_LABELS


def parse_amount(text: str, currency: str, *, signed: bool = False) -> int:
    """Parse "12.50" into 1250 minor units; a sign only where `signed` allows it."""
    try:
        value = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        raise DomainError("Enter an amount such as 12.50.") from None
    if not value.is_finite() or value == 0 or (value < 0 and not signed):
        raise DomainError("Enter a non-zero amount." if signed else "Enter a positive amount.")
    return Money.of(value, currency).minor


@dataclass(frozen=True)
class SearchResultRow:
    """One line of a customer search (admin or reseller), as text, with the link to the record."""

    tenant: str
    tenant_name: str
    email: str
    name: str
    company: str
    country: str
    joined: str
    status: str
    href: str


def admin_record_link(row: CustomerRow) -> str:
    """The admin's record page of a customer of any tenant."""
    return f"{routes.ADMIN_CUSTOMER}?tenant={row.tenant_id}&user={row.user_id}"


def reseller_record_link(row: CustomerRow) -> str:
    """A reseller's record page of one of its own customers."""
    return f"{routes.RESELLER_CUSTOMER}?user={row.user_id}"


def search_result_rows(
    rows: list[CustomerRow], *, link: Callable[[CustomerRow], str] = admin_record_link
) -> list[SearchResultRow]:
    """The search page's lines for `search_customers` results, each linked to its record."""
    return [
        SearchResultRow(
            tenant=r.tenant_slug,
            tenant_name=r.tenant_name,
            email=r.email,
            name=r.name,
            company=r.company,
            country=r.country,
            joined=f"{r.joined:%Y-%m-%d}",
            status="active" if r.active else "disabled",
            href=link(r),
        )
        for r in rows
    ]


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else ""


def _service_status(service: str, workspace: str | None) -> str:
    """A workspace's own state where it says more than its service's ("stopped", not "active")."""
    return workspace if service == "active" and workspace and workspace != "running" else service


@dataclass(frozen=True, slots=True)
class ProfileView:
    """Who the customer is, as the record's profile card shows it (all "" before one is open)."""

    tenant: str = ""
    email: str = ""
    name: str = ""
    company: str = ""
    country: str = ""
    joined: str = ""
    two_factor: str = ""
    verified: str = ""
    status: str = ""
    balance: str = ""


@dataclass(frozen=True, slots=True)
class RecordServiceRow:
    """A service; `actions` names the staff actions its status allows, each as " name "."""

    id: int
    label: str
    plan: str
    status: str
    since: str
    actions: str


@dataclass(frozen=True, slots=True)
class RecordInvoiceRow:
    """An invoice of the customer."""

    id: int
    number: str
    kind: str
    status: str
    total: str
    issued: str
    due: str
    paid: str


@dataclass(frozen=True, slots=True)
class RecordPaymentRow:
    """A payment of the customer (card, wallet or crypto) and what was refunded of it."""

    id: int
    at: str
    invoice: str
    status: str
    amount: str
    refunded: str
    gateway: str


@dataclass(frozen=True, slots=True)
class RecordCreditRow:
    """An entry of the customer's credit ledger."""

    at: str
    kind: str
    amount: str
    memo: str


@dataclass(frozen=True, slots=True)
class RecordLoginRow:
    """A sign-in attempt."""

    at: str
    ip: str
    method: str
    result: str


@dataclass(frozen=True, slots=True)
class RecordNoteRow:
    """A staff note."""

    at: str
    author: str
    body: str


@dataclass(frozen=True, slots=True)
class RecordTimelineRow:
    """An event on the customer's timeline."""

    at: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class RecordView:
    """The customer record as the staff pages show it."""

    profile: ProfileView
    services: list[RecordServiceRow]
    invoices: list[RecordInvoiceRow]
    payments: list[RecordPaymentRow]
    credits: list[RecordCreditRow]
    logins: list[RecordLoginRow]
    notes: list[RecordNoteRow]
    timeline: list[RecordTimelineRow]


def record_view(record: CustomerRecord) -> RecordView:
    """The customer record as the admin customer page shows it: formatted text, money and dates."""
    user = record.user
    cur = user.currency or record.tenant.currency
    numbers = {i.id: i.number for i in record.invoices}
    return RecordView(
        profile=ProfileView(
            tenant=f"{record.tenant.name} ({record.tenant.slug})",
            email=user.email,
            name=user.name,
            company=user.company,
            country=user.country,
            joined=_when(user.created_at),
            two_factor="on" if user.totp_enabled_at else "off",
            verified="yes" if user.email_verified_at else "no",
            status="active" if user.is_active else "disabled",
            balance=money(record.credit_balance_minor, cur).format(),
        ),
        services=[
            RecordServiceRow(
                id=row_id(s),
                label=s.label,
                plan=p.name,
                status=_service_status(s.status.value, record.workspace_states.get(row_id(s))),
                since=_when(s.created_at),
                actions="".join(f" {a} " for a in allowed_actions(s.status)),
            )
            for s, p in record.services
        ],
        invoices=[
            RecordInvoiceRow(
                id=row_id(i),
                number=i.number or "draft",
                kind=i.kind.value,
                status=i.status.value,
                total=money(i.total_minor, i.currency).format(),
                issued=_when(i.issued_at),
                due=_when(i.due_at),
                paid=_when(i.paid_at),
            )
            for i in record.invoices
        ],
        payments=[
            RecordPaymentRow(
                id=row_id(pay),
                at=_when(pay.created_at),
                invoice=numbers.get(pay.invoice_id, "top-up") or "",
                status=pay.status.value + (" · disputed" if pay.disputed else ""),
                amount=money(pay.amount_minor, pay.currency).format(),
                refunded=money(pay.refunded_minor, pay.currency).format(),
                gateway=GATEWAY_LABELS.get(pay.gateway, pay.gateway),
            )
            for pay in record.payments
        ],
        credits=[
            RecordCreditRow(
                _when(c.created_at), c.kind.value, money(c.amount_minor, c.currency).format(), c.memo
            )
            for c in record.credits
        ],
        logins=[
            RecordLoginRow(_when(e.created_at), e.ip, e.method, "ok" if e.success else e.reason)
            for e in record.logins
        ],
        notes=[RecordNoteRow(_when(n.created_at), n.author_email, n.body) for n in record.notes],
        timeline=[RecordTimelineRow(_when(t.at), t.kind.replace("_", " "), t.text) for t in record.timeline],
    )
