"""A customer record as page data (text only; amounts formatted from exact minor units)."""

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
    """One line of the admin's customer search, as text, with the link to the record."""

    tenant: str
    tenant_name: str
    email: str
    name: str
    company: str
    country: str
    joined: str
    status: str
    href: str


def search_result_rows(rows: list[CustomerRow]) -> list[SearchResultRow]:
    """The search page's lines for `search_customers` results."""
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
            href=f"{routes.ADMIN_CUSTOMER}?tenant={r.tenant_id}&user={r.user_id}",
        )
        for r in rows
    ]


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M}" if at else ""


def _service_status(service: str, workspace: str | None) -> str:
    """A workspace's own state where it says more than its service's ("stopped", not "active")."""
    return workspace if service == "active" and workspace and workspace != "running" else service


def record_view(record: CustomerRecord) -> dict:
    """The customer record as the admin customer page shows it: formatted text, money and dates."""
    user = record.user
    cur = user.currency or record.tenant.currency
    numbers = {i.id: i.number for i in record.invoices}
    return {
        "profile": {
            "tenant": f"{record.tenant.name} ({record.tenant.slug})",
            "email": user.email,
            "name": user.name,
            "company": user.company,
            "country": user.country,
            "joined": _when(user.created_at),
            "two_factor": "on" if user.totp_enabled_at else "off",
            "verified": "yes" if user.email_verified_at else "no",
            "status": "active" if user.is_active else "disabled",
            "balance": money(record.credit_balance_minor, cur).format(),
        },
        "services": [
            {
                "id": str(s.id),
                "label": s.label,
                "plan": p.name,
                "status": _service_status(s.status.value, record.workspace_states.get(row_id(s))),
                "since": _when(s.created_at),
                "actions": "".join(f" {a} " for a in allowed_actions(s.status)),
            }
            for s, p in record.services
        ],
        "invoices": [
            {
                "id": str(i.id),
                "number": i.number or "draft",
                "kind": i.kind.value,
                "status": i.status.value,
                "total": money(i.total_minor, i.currency).format(),
                "issued": _when(i.issued_at),
                "due": _when(i.due_at),
                "paid": _when(i.paid_at),
            }
            for i in record.invoices
        ],
        "payments": [
            {
                "id": str(pay.id),
                "at": _when(pay.created_at),
                "invoice": numbers.get(pay.invoice_id, "top-up"),
                "status": pay.status.value + (" · disputed" if pay.disputed else ""),
                "amount": money(pay.amount_minor, pay.currency).format(),
                "refunded": money(pay.refunded_minor, pay.currency).format(),
                "gateway": GATEWAY_LABELS.get(pay.gateway, pay.gateway),
            }
            for pay in record.payments
        ],
        "credits": [
            {
                "at": _when(c.created_at),
                "kind": c.kind.value,
                "amount": money(c.amount_minor, c.currency).format(),
                "memo": c.memo,
            }
            for c in record.credits
        ],
        "logins": [
            {
                "at": _when(e.created_at),
                "ip": e.ip,
                "method": e.method,
                "result": "ok" if e.success else e.reason,
            }
            for e in record.logins
        ],
        "notes": [
            {"at": _when(n.created_at), "author": n.author_email, "body": n.body} for n in record.notes
        ],
        "timeline": [
            {"at": _when(t.at), "kind": t.kind.replace("_", " "), "text": t.text} for t in record.timeline
        ],
    }
