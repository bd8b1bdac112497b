"""What staff can do to a customer: a platform admin to any tenant's, a reseller's owner and staff
to their own tenant's as their role allows (`resellers/roles.py`). Each action checks who asks and
its input (raising DomainError and changing nothing), commits, then writes an audit row."""

from datetime import timedelta

from sqlmodel import Session, col, delete, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.admin import CustomerNote
from ezscale.models.auth import RecoveryCode, UserSession
from ezscale.models.billing import Payment
from ezscale.models.kasm import KasmWorkspace, WorkspaceStatus
from ezscale.models.provisioning import JobAction
from ezscale.models.tenant import (
    Invoice,
    Role,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.models.types import row_id
from ezscale.services.accounts import rate_limits
from ezscale.services.accounts.auth import send_verification
from ezscale.services.accounts.sessions import AuthUser, create_user_session, hash_token
from ezscale.services.billing import credits, invoices, payments, subscriptions, timeline
from ezscale.services.core.audit import record_audit
from ezscale.services.customers.directory import customer_target
from ezscale.services.fx.currencies import customer_currency
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.provisioning import lifecycle
from ezscale.services.resellers.roles import Permission, require_permission
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

SERVICE_ACTIONS = ("suspend", "unsuspend", "terminate")
# The states each service action starts from (the record page offers only these).
_ACTION_FROM = {
    "suspend": (ServiceStatus.ACTIVE,),
    "unsuspend": (ServiceStatus.SUSPENDED,),
    "terminate": (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED, ServiceStatus.FAILED, ServiceStatus.PENDING),
}
IMPERSONATION_TTL = timedelta(hours=1)
_DONE = {"suspend": "suspended", "unsuspend": "unsuspended", "terminate": "terminated"}


def _customer(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or user.role is not Role.CUSTOMER:
        raise NotFound("No such customer.")
    return user


def _audit(actor: AuthUser, action: str, target: str, after: dict, ip: str) -> None:
    record_audit(actor=actor, action=action, target=target, after=after, ip=ip)


def add_credit(
    *, actor: AuthUser, tenant: TenantInfo, user_id: int, amount_minor: int, memo: str, ip: str = ""
) -> int:
    """Credit (positive) or debit (negative) the customer's account credit; returns the new balance."""
    require_permission(actor, tenant.id, Permission.MONEY)
    if not memo.strip():
        raise DomainError("Say why the credit changes.")
    with tenant_session(tenant) as db:
        currency = customer_currency(db, _customer(db, user_id))
        credits.adjust(db, user_id=user_id, amount_minor=amount_minor, currency=currency, memo=memo)
        balance = credits.balance_minor(db, user_id=user_id, currency=currency)
    _audit(
        actor,
        "customer.credit",
        customer_target(tenant.id, user_id),
        {"amount_minor": amount_minor, "memo": memo},
        ip,
    )
    return balance


def charge(
    *, actor: AuthUser, tenant: TenantInfo, user_id: int, amount_minor: int, description: str, ip: str = ""
) -> str:
    """A one-off charge: an invoice with one line, issued now; returns its number."""
    require_permission(actor, tenant.id, Permission.MONEY)
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise DomainError("A charge needs a positive amount.")
    if not description.strip():
        raise DomainError("Describe the charge.")
    with tenant_session(tenant) as db:
        currency = customer_currency(db, _customer(db, user_id))
        invoice = invoices.create_draft(db, user_id=user_id, currency=currency, memo=description)
        invoices.add_line(db, invoice, description=description, unit_minor=amount_minor)
        invoices.issue(db, invoice)
        db.commit()
        number = invoice.number
        assert number is not None, "an issued invoice is numbered"
    _audit(
        actor,
        "customer.charge",
        customer_target(tenant.id, user_id),
        {"invoice": number, "amount_minor": amount_minor},
        ip,
    )
    return number


def credit_note(
    *,
    actor: AuthUser,
    tenant: TenantInfo,
    user_id: int,
    invoice_id: int,
    amount_minor: int,
    reason: str,
    ip: str = "",
) -> str:
    """Issue a credit note against one of the customer's invoices (audited); returns its number."""
    require_permission(actor, tenant.id, Permission.MONEY)
    with tenant_session(tenant) as db:
        invoice = db.get(Invoice, invoice_id)
        if invoice is None or invoice.user_id != user_id:
            raise NotFound("No such invoice for this customer.")
        note = invoices.create_credit_note(db, invoice=invoice, amount_minor=amount_minor, reason=reason)
        number = note.number
        assert number is not None, "an issued credit note is numbered"
    after = {"credit_note": number, "invoice": invoice.number, "amount_minor": amount_minor}
    _audit(actor, "customer.credit_note", customer_target(tenant.id, user_id), after, ip)
    return number


def refund(
    *,
    actor: AuthUser,
    tenant: TenantInfo,
    user_id: int,
    payment_id: int,
    amount_minor: int,
    reason: str,
    request_key: str,
    ip: str = "",
) -> None:
    """Refund (part of) a payment at the gateway that took it (Stripe, PayPal, BTCPay); an
    invoice correction is a credit note instead. `request_key` is the refund form's one-time
    key: the same form sent twice (two tabs, a double click) refunds once."""
    require_permission(actor, tenant.id, Permission.MONEY)
    if not reason.strip():
        raise DomainError("Say why the payment is refunded.")
    if not 16 <= len(request_key) <= 64:
        raise DomainError("Reload the page to refund.")
    with tenant_session(tenant) as db:
        payment = db.get(Payment, payment_id)
        if payment is None or payment.user_id != user_id:
            raise NotFound("No such payment for this customer.")
        refunded = payments.refund(
            db,
            payment=payment,
            amount_minor=amount_minor,
            reason=reason.strip(),
            tenant=tenant,
            request_key=request_key,
        )
        gateway = payment.gateway
    if not refunded:
        return  # the same form sent again: refunded and audited once
    after = {
        "payment": payment_id,
        "gateway": gateway,
        "amount_minor": amount_minor,
        "reason": reason.strip(),
    }
    _audit(actor, "customer.refund", customer_target(tenant.id, user_id), after, ip)


def allowed_actions(status: ServiceStatus) -> list[str]:
    """The staff actions a service in `status` allows, in button order."""
    return [action for action in SERVICE_ACTIONS if status in _ACTION_FROM[action]]


def change_service(
    *, actor: AuthUser, tenant: TenantInfo, user_id: int, service_id: int, action: str, ip: str = ""
) -> ServiceStatus:
    """Suspend, unsuspend or terminate a service (terminating also ends its subscription)."""
    require_permission(actor, tenant.id, Permission.SERVICES)
    if action not in SERVICE_ACTIONS:
        raise DomainError("Unknown service action.")
    with tenant_session(tenant) as db:
        service = db.get(Service, service_id)
        if service is None or service.user_id != user_id:
            raise NotFound("No such service for this customer.")
        before = service.status
        if action not in allowed_actions(before):
            raise DomainError(f"A {before.value} service cannot be {_DONE[action]}.")
        _apply(db, service, action)
        timeline.record(
            db,
            user_id=user_id,
            kind=f"service_{action}",
            message=f"Service #{service.id} {_DONE[action]} by staff",
        )
        db.commit()
        after = service.status
    target = f"{customer_target(tenant.id, user_id)}:{service_id}"
    _audit(actor, f"service.{action}", target, {"from": before.value, "to": after.value}, ip)
    return after


def _apply(db: Session, service: Service, action: str) -> None:
    sub = db.exec(select(Subscription).where(Subscription.service_id == service.id)).first()
    workspace = db.exec(select(KasmWorkspace).where(KasmWorkspace.service_id == service.id)).first()
    if action == "terminate":
        if sub and sub.status is not SubscriptionStatus.CANCELLED:
            subscriptions.cancel(db, subscription=sub, at_period_end=False)
        if workspace is not None:
            kasm.terminate_workspace(db, user_id=service.user_id, workspace_id=row_id(workspace))
        db.refresh(service)
        service.status, service.status_reason = ServiceStatus.TERMINATED, "terminated by staff"
        lifecycle.request(db, service_id=row_id(service), action=JobAction.TERMINATE, cause="staff")
    else:
        suspend = action == "suspend"
        if suspend and workspace is not None and workspace.status is WorkspaceStatus.RUNNING:
            # Billing stops now; the Kasm reconcile pass stops the session itself.
            kasm.stop_workspace(db, user_id=None, workspace_id=row_id(workspace), reason="Suspended by staff")
            db.refresh(service)
        service.status = ServiceStatus.SUSPENDED if suspend else ServiceStatus.ACTIVE
        service.status_reason = "suspended by staff" if suspend else ""
        lifecycle.request(
            db, service_id=row_id(service), action=JobAction.SUSPEND if suspend else JobAction.UNSUSPEND
        )
    db.add(service)


def reset_two_factor(*, actor: AuthUser, tenant: TenantInfo, user_id: int, ip: str = "") -> None:
    """Turn off the customer's authenticator app and recovery codes (they can enrol again)."""
    require_permission(actor, tenant.id, Permission.ACCOUNT)
    with tenant_session(tenant) as db:
        user = _customer(db, user_id)
        if user.totp_enabled_at is None:
            raise DomainError("This customer has no two-factor authentication to reset.")
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        db.add(user)
        db.exec(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user_id))
        db.commit()
    _audit(actor, "customer.reset_2fa", customer_target(tenant.id, user_id), {"totp": "off"}, ip)


def add_note(*, actor: AuthUser, tenant: TenantInfo, user_id: int, body: str, ip: str = "") -> None:
    """Add an internal admin note to the customer's record (audited); empty notes are refused."""
    require_permission(actor, tenant.id, Permission.NOTE)
    body = body.strip()
    if not body:
        raise DomainError("The note is empty.")
    with tenant_session(tenant) as db:
        _customer(db, user_id)
        db.add(
            CustomerNote(user_id=user_id, author_email=actor.email, body=body[:4000], created_at=clock.now())
        )
        db.commit()


def impersonate(*, actor: AuthUser, tenant: TenantInfo, user_id: int, ip: str = "") -> str:
    """A session token of the customer, marked as impersonation (audited) for the admin's browser."""
    require_permission(actor, tenant.id, Permission.ACCOUNT)
    with tenant_session(tenant) as db:
        user = _customer(db, user_id)
        if not user.is_active:
            raise DomainError("This account is disabled.")
        token = create_user_session(
            db, user=user, method="impersonation", ip=ip, user_agent=f"admin {actor.email}"
        )
        # The token travels once in a URL to the customer's host: keep its session short.
        row = db.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).one()
        row.expires_at = clock.now() + IMPERSONATION_TTL
        db.add(row)
        db.commit()
    _audit(actor, "customer.impersonate", customer_target(tenant.id, user_id), {"email": user.email}, ip)
    return token


def resend_verification(*, actor: AuthUser, tenant: TenantInfo, user_id: int, ip: str = "") -> None:
    """Mail an unconfirmed customer a new verification link (their sign-up's password stays the
    one they chose); rate-limited per address like every mail a visitor can trigger."""
    require_permission(actor, tenant.id, Permission.ACCOUNT)
    with tenant_session(tenant) as db:
        user = _customer(db, user_id)
        if user.email_verified_at is not None:
            raise DomainError("This customer's email address is already confirmed.")
        if not rate_limits.may_mail(tenant_id=tenant.id, address=user.email):
            raise DomainError("A verification mail went out to this address recently; try again later.")
        send_verification(db, tenant=tenant, user=user, password_hash=user.password_hash)
    _audit(
        actor, "customer.resend_verification", customer_target(tenant.id, user_id), {"email": user.email}, ip
    )
