"""A new reseller's first-run checklist: what stands between a fresh storefront and a business —
its brand, its own domain, its own payment account (Stripe Connect) so its customers can pay it, a
card for EZSCALE's wholesale invoices, its plans and prices, and its first customer. Each step is
read from what the reseller has actually done."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale import routes
from ezscale.models.auth import AuditEntry
from ezscale.models.central import TenantBilling, TenantDomain, VerificationStatus
from ezscale.models.tenant import Role, User
from ezscale.services.payments import connect
from ezscale.services.tenancy.tenants import TenantInfo, is_platform_host


@dataclass(frozen=True)
class Step:
    """One step of the checklist, with where to do it."""

    key: str
    label: str
    done: bool
    href: str


def _audited(central: Session, tenant_id: int, prefix: str) -> bool:
    found = central.exec(
        select(AuditEntry.id).where(
            AuditEntry.tenant_id == tenant_id, col(AuditEntry.action).startswith(prefix)
        )
    ).first()
    return found is not None


def checklist(central: Session, db: Session, *, tenant: TenantInfo) -> list[Step]:
    """The steps in order; `central` is the platform database, `db` the tenant's own."""
    own_domain = any(
        not is_platform_host(domain)
        for domain in central.exec(
            select(TenantDomain.domain).where(
                TenantDomain.tenant_id == tenant.id,
                TenantDomain.verification_status == VerificationStatus.VERIFIED,
            )
        )
    )
    card = central.exec(select(TenantBilling.card_label).where(TenantBilling.tenant_id == tenant.id)).first()
    customer = db.exec(select(User.id).where(User.role == Role.CUSTOMER)).first()
    return [
        Step(
            "brand",
            "Brand your storefront: name, logo and colours",
            _audited(central, tenant.id, "branding."),
            routes.RESELLER_BRANDING,
        ),
        Step("domain", "Connect your own domain", own_domain, routes.RESELLER_DOMAINS),
        Step(
            "gateway",
            "Connect your payment account so your customers can pay you",
            connect.status(central, tenant=tenant).can_charge,
            routes.RESELLER_GATEWAYS,
        ),
        Step("payment", "Add the card EZSCALE charges for wholesale invoices", bool(card), routes.RESELLER),
        Step(
            "plans",
            "Review your plans and set your prices",
            _audited(central, tenant.id, "plan."),
            routes.RESELLER_PLANS,
        ),
        Step("customer", "Welcome your first customer", customer is not None, routes.HOME),
    ]
