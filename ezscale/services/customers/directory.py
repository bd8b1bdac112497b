"""Admin → Customers: search every tenant's customers, and one customer's whole record with a
unified timeline (invoices, payments, mails, service and billing events, logins, notes, admin
actions), newest first."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, or_, select

from ezscale.db import central_session
from ezscale.errors import NotFound
from ezscale.models.admin import CustomerNote
from ezscale.models.auth import AuditEntry, LoginEvent, TenantMail
from ezscale.models.billing import BillingEvent, Payment, PaymentStatus
from ezscale.models.central import Tenant, TenantStatus
from ezscale.models.kasm import KasmWorkspace
from ezscale.models.tenant import CreditEntry, Invoice, InvoiceKind, Plan, Role, Service, User
from ezscale.models.types import row_id
from ezscale.services.analytics.view import money
from ezscale.services.core.audit_view import changes_text
from ezscale.services.tenancy.tenants import TenantInfo, list_tenants, site_url, tenant_session

SEARCH_LIMIT = 100


@dataclass(frozen=True)
class CustomerRow:
    """One customer in the admin search results, with the tenant they belong to."""

    tenant_id: int
    tenant_slug: str
    tenant_name: str
    user_id: int
    email: str
    name: str
    company: str
    country: str
    joined: datetime
    active: bool


@dataclass(frozen=True)
class TimelineItem:
    """One event in a customer's history (sign-up, order, invoice, login, note ...)."""

    at: datetime
    kind: str
    text: str


@dataclass
class CustomerRecord:
    """Everything the admin sees about one customer, read from the tenant and central databases."""

    tenant: TenantInfo
    user: User
    services: list[tuple[Service, Plan]]
    invoices: list[Invoice]
    credits: list[CreditEntry]
    credit_balance_minor: int
    logins: list[LoginEvent]
    notes: list[CustomerNote]
    timeline: list[TimelineItem]
    payments: list[Payment]
    # service id → its workspace's state, for workspaces (a stopped one's service stays active)
    workspace_states: dict[int, str] = field(default_factory=dict)


def customer_target(tenant_id: int, user_id: int) -> str:
    """How admin actions on a customer are named in the audit log."""
    return f"customer:{tenant_id}:{user_id}"


def customer_site_url(tenant: TenantInfo) -> str:
    """Base URL of the tenant's storefront (its primary domain), where its customers sign in."""
    with central_session() as central:
        domains = next(d for t, d in list_tenants(central) if t.id == tenant.id)
    return site_url(domains[0])


def search_customers(
    central: Session, *, query: str = "", tenant_id: int | None = None, limit: int = SEARCH_LIMIT
) -> list[CustomerRow]:
    """Customers whose e-mail, name or company contains `query`, across tenants (newest first)."""
    tenants = central.exec(
        select(Tenant).where(col(Tenant.status) != TenantStatus.DELETED).order_by(col(Tenant.id))
    ).all()
    pattern = f"%{query.strip()}%"
    rows: list[CustomerRow] = []
    for tenant in tenants:
        if tenant_id is not None and tenant.id != tenant_id:
            continue
        with tenant_session(TenantInfo.of(tenant)) as db:
            users = db.exec(
                select(User)
                .where(
                    User.role == Role.CUSTOMER,
                    or_(
                        col(User.email).ilike(pattern),
                        col(User.name).ilike(pattern),
                        col(User.company).ilike(pattern),
                    ),
                )
                .order_by(col(User.created_at).desc())
                .limit(limit)
            ).all()
        rows += [
            CustomerRow(
                row_id(tenant),
                tenant.slug,
                tenant.name,
                row_id(u),
                u.email,
                u.name,
                u.company,
                u.country,
                u.created_at,
                u.is_active,
            )
            for u in users
        ]
    return sorted(rows, key=lambda r: r.joined, reverse=True)[:limit]


# Billing events the invoice and payment rows already put on the timeline (with their amounts).
_TOLD_BY_ROWS = frozenset({"invoice_issued", "invoice_paid", "payment_succeeded", "credit_note"})


def _money(minor: int, currency: str) -> str:
    return money(minor, currency).format()


def _timeline(
    db: Session,
    central: Session,
    tenant: TenantInfo,
    user: User,
    services: list[tuple[Service, Plan]],
    invoices: list[Invoice],
    logins: list[LoginEvent],
    notes: list[CustomerNote],
) -> list[TimelineItem]:
    items = [TimelineItem(user.created_at, "signup", "Signed up")]
    for service, plan in services:
        items.append(
            TimelineItem(service.created_at, "service", f"Ordered {plan.name} (service #{service.id})")
        )
    for inv in invoices:
        what = "Credit note" if inv.kind is InvoiceKind.CREDIT_NOTE else "Invoice"
        if inv.issued_at:
            items.append(
                TimelineItem(
                    inv.issued_at,
                    "invoice",
                    f"{what} {inv.number} issued: {_money(inv.total_minor, inv.currency)}",
                )
            )
        if inv.paid_at and inv.kind is InvoiceKind.INVOICE:
            items.append(
                TimelineItem(
                    inv.paid_at,
                    "payment",
                    f"Invoice {inv.number} paid: {_money(inv.total_minor, inv.currency)}",
                )
            )
    events = list(db.exec(select(BillingEvent).where(BillingEvent.user_id == user.id)))
    failed_told = {e.invoice_id for e in events if e.kind == "payment_failed"}
    for payment in db.exec(select(Payment).where(Payment.user_id == user.id)):
        if payment.status is PaymentStatus.FAILED and payment.invoice_id in failed_told:
            continue  # the payment_failed event tells it, with the reason
        items.append(
            TimelineItem(
                payment.created_at,
                "payment",
                f"Card payment {payment.status.value}: {_money(payment.amount_minor, payment.currency)}",
            )
        )
    items += [TimelineItem(e.created_at, e.kind, e.message) for e in events if e.kind not in _TOLD_BY_ROWS]
    for mail in db.exec(select(TenantMail).where(TenantMail.to_address == user.email)):
        items.append(TimelineItem(mail.created_at, "email", f"E-mail: {mail.subject}"))
    for login in logins:
        result = "Signed in" if login.success else f"Failed sign-in ({login.reason})"
        items.append(
            TimelineItem(login.created_at, "login", f"{result} from {login.ip or 'unknown address'}")
        )
    for note in notes:
        items.append(TimelineItem(note.created_at, "note", f"Note by {note.author_email}: {note.body}"))
    target = customer_target(tenant.id, row_id(user))
    for entry in central.exec(select(AuditEntry).where(col(AuditEntry.target).startswith(target))):
        if entry.target in (target, *(f"{target}:{s.id}" for s, _ in services)):
            changes = changes_text(entry.before, entry.after, tenant.currency)
            text = f"{entry.actor_email}: {entry.action}" + (f" — {changes}" if changes else "")
            items.append(TimelineItem(entry.created_at, "admin", text))
    return sorted(items, key=lambda i: i.at, reverse=True)


def customer_record(central: Session, *, tenant: TenantInfo, user_id: int) -> CustomerRecord:
    """One customer's whole record; NotFound unless the user is a customer of that tenant."""
    with tenant_session(tenant) as db:
        user = db.get(User, user_id)
        if user is None or user.role is not Role.CUSTOMER:
            raise NotFound("No such customer.")
        services = list(
            db.exec(
                select(Service, Plan)
                .join(Plan, col(Plan.id) == col(Service.plan_id))
                .where(col(Service.user_id) == user_id)
                .order_by(col(Service.id))
            )
        )
        invoices = list(
            db.exec(select(Invoice).where(Invoice.user_id == user_id).order_by(col(Invoice.id).desc()))
        )
        credits = list(
            db.exec(
                select(CreditEntry).where(CreditEntry.user_id == user_id).order_by(col(CreditEntry.id).desc())
            )
        )
        logins = list(
            db.exec(
                select(LoginEvent)
                .where(LoginEvent.user_id == user_id)
                .order_by(col(LoginEvent.created_at).desc(), col(LoginEvent.id).desc())
                .limit(100)
            )
        )
        notes = list(
            db.exec(
                select(CustomerNote)
                .where(CustomerNote.user_id == user_id)
                .order_by(col(CustomerNote.id).desc())
            )
        )
        payments = list(
            db.exec(
                select(Payment)
                .where(
                    col(Payment.user_id) == user_id,
                    or_(
                        col(Payment.stripe_payment_intent_id).is_not(None),
                        col(Payment.gateway_ref).is_not(None),
                    ),
                )
                .order_by(col(Payment.id).desc())
            )
        )
        timeline = _timeline(db, central, tenant, user, services, invoices, logins, notes)
        workspace_states = dict(
            db.exec(
                select(col(KasmWorkspace.service_id), col(KasmWorkspace.status)).where(
                    KasmWorkspace.user_id == user_id
                )
            ).all()
        )
    balance = sum(c.amount_minor for c in credits if c.currency == (user.currency or tenant.currency))
    return CustomerRecord(
        tenant,
        user,
        services,
        invoices,
        credits,
        balance,
        logins,
        notes,
        timeline,
        payments,
        {service_id: status.value for service_id, status in workspace_states.items()},
    )
