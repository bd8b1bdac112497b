"""Tenants: creation (own database, migrated and seeded), lifecycle, and host → tenant lookup."""

import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.db import central_session, drop_database, tenant_session_for
from ezscale.errors import DomainError, NotFound
from ezscale.migrations import (
    ensure_template,
    provision_tenant_database,
    upgrade_central,
    upgrade_tenant,
)
from ezscale.models.central import (
    DomainType,
    Tenant,
    TenantBilling,
    TenantBranding,
    TenantDomain,
    TenantStatus,
    VerificationStatus,
)
from ezscale.models.types import pk, row_id
from ezscale.services.catalogue.defaults import seed_default_plans
from ezscale.settings import get_settings

if TYPE_CHECKING:
    from ezscale.services.accounts.sessions import AuthUser

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
log = logging.getLogger(__name__)

IPV6_RE = re.compile(r"^[0-9a-f:.]{2,45}$")
PORT_RE = re.compile(r"^:[0-9]{1,5}$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

TIER_DISCOUNTS = {"basic": Decimal("20"), "pro": Decimal("30"), "enterprise": Decimal("40")}
TIER_FEES_MINOR = {"basic": 4900, "pro": 9900, "enterprise": 29900}


@dataclass(frozen=True, slots=True)
class TenantInfo:
    """A tenant's identity and settings, detached from any database session."""

    id: int
    slug: str
    name: str
    database_name: str
    status: TenantStatus
    is_house: bool
    currency: str

    @classmethod
    def of(cls, tenant: Tenant) -> "TenantInfo":
        """Copy a tenant row into a detached TenantInfo."""
        return cls(
            id=row_id(tenant),
            slug=tenant.slug,
            name=tenant.name,
            database_name=tenant.database_name,
            status=tenant.status,
            is_house=tenant.is_house,
            currency=tenant.currency,
        )


@dataclass(frozen=True, slots=True)
class BrandingInfo:
    """A tenant's branding, detached from any database session."""

    company_name: str
    primary_color: str
    secondary_color: str
    logo_url: str | None
    favicon_url: str | None
    support_email: str | None
    custom_css: str | None = None

    @classmethod
    def of(cls, row: TenantBranding) -> "BrandingInfo":
        """Copy a branding row into a detached BrandingInfo."""
        return cls(
            company_name=row.company_name,
            primary_color=row.primary_color,
            secondary_color=row.secondary_color,
            logo_url=row.logo_url,
            favicon_url=row.favicon_url,
            support_email=row.support_email,
            custom_css=row.custom_css,
        )


class HostStatus(StrEnum):
    """The outcome of looking a host name up: a tenant, no tenant, or a suspended tenant."""

    OK = "ok"
    UNKNOWN = "unknown"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class HostResolution:
    """What a request's host name resolves to: its status, and the tenant and branding if any."""

    status: HostStatus
    host: str
    tenant: TenantInfo | None = None
    branding: BrandingInfo | None = None


def split_host(host: str) -> tuple[str, int | None] | None:
    """Parse a Host header (or an origin's netloc) strictly: `name[:port]` or `[v6][:port]`.

    None for anything else: userinfo (`a@b`), spaces, paths, empty or invalid labels, a port
    that is not 1-65535. The name comes back lower-cased without a trailing dot.
    """
    host = (host or "").strip().lower()
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[: end + 1], host[end + 1 :]
        if end < 0 or not IPV6_RE.match(name[1:-1]):
            return None
    else:
        name, colon, port_text = host.partition(":")
        name, rest = name.removesuffix("."), colon + port_text
        if not DOMAIN_RE.match(name):
            return None
    if not rest:
        return name, None
    port = int(rest[1:]) if PORT_RE.match(rest) else 0
    return (name, port) if 1 <= port <= 65535 else None


def normalise_host(host: str) -> str:
    """`Acme.Example.com.:3000` → `acme.example.com` (port, case and trailing dot dropped);
    "" for a host that does not parse strictly (see split_host), which then matches no tenant."""
    parsed = split_host(host)
    return parsed[0] if parsed else ""


def validate_slug(slug: str) -> str:
    """The slug if valid (1-40 lowercase letters, digits, hyphens), else a DomainError."""
    if not SLUG_RE.match(slug or ""):
        raise DomainError(
            "Slug must be 1–40 lowercase letters, digits or hyphens, not starting or ending with a hyphen."
        )
    return slug


def validate_domain(domain: str) -> str:
    """The domain name normalised (lower case, no port), else a DomainError."""
    name = normalise_host(domain)
    if not DOMAIN_RE.match(name):
        raise DomainError(f"“{(domain or '').strip()}” is not a valid domain name.")
    return name


def validate_color(color: str) -> str:
    """The colour in upper-case #RRGGBB form, else a DomainError."""
    if not COLOR_RE.match(color or ""):
        raise DomainError(f"“{color}” is not a colour in #RRGGBB form.")
    return color.upper()


def is_platform_host(domain: str) -> bool:
    """The platform's own domain and its subdomains, which EZSCALE controls (no proof needed)."""
    base = get_settings().platform_domain
    return domain == base or domain.endswith("." + base)


def new_domain_row(tenant_id: int, domain: str, type_: DomainType) -> TenantDomain:
    """A domain row: platform hosts are verified at once, custom ones wait for proof."""
    trusted = is_platform_host(domain)
    now = clock.now()
    return TenantDomain(
        tenant_id=tenant_id,
        domain=domain,
        type=type_,
        verification_status=VerificationStatus.VERIFIED if trusted else VerificationStatus.PENDING,
        verification_token="" if trusted else secrets.token_urlsafe(24),
        verified_at=now if trusted else None,
        created_at=now,
    )


def resolve_host(session: Session, host: str) -> HostResolution:
    """The tenant a Host header names, through its verified primary and alias domains."""
    name = normalise_host(host)
    row = session.exec(
        select(Tenant, TenantBranding)
        .join(TenantDomain, col(TenantDomain.tenant_id) == col(Tenant.id))
        .join(TenantBranding, col(TenantBranding.tenant_id) == col(Tenant.id), isouter=True)
        .where(
            col(TenantDomain.domain) == name,
            col(TenantDomain.verification_status) == VerificationStatus.VERIFIED,
        )
    ).first()
    if row is None:
        return HostResolution(HostStatus.UNKNOWN, name)
    tenant, branding = row
    info = TenantInfo.of(tenant)
    brand = (
        BrandingInfo.of(branding)
        if branding
        else BrandingInfo(tenant.name, "#3B82F6", "#1E293B", None, None, None)
    )
    closed = tenant.status in (TenantStatus.SUSPENDED, TenantStatus.DELETING, TenantStatus.DELETED)
    status = HostStatus.SUSPENDED if closed else HostStatus.OK
    return HostResolution(status, name, info, brand)


def create_tenant(
    session: Session,
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_name: str = "",
    primary_domain: str | None = None,
    tier: str = "basic",
    is_house: bool = False,
    currency: str | None = None,
    primary_color: str = "#3B82F6",
    secondary_color: str = "#1E293B",
    trial_ends_at: datetime | None = None,
) -> Tenant:
    """Create a tenant: central rows, its own database (created and migrated), default plans.

    Every reseller also gets `<slug>.<platform domain>` as an alias. If any step fails, the
    central rows are rolled back and the half-made database is dropped.
    """
    settings = get_settings()
    name = (name or "").strip()
    if not name:
        raise DomainError("Name is required.")
    slug = validate_slug(slug)
    if not EMAIL_RE.match(owner_email or ""):
        raise DomainError(f"“{owner_email}” is not a valid email address.")
    if tier not in TIER_DISCOUNTS:
        raise DomainError(f"Unknown reseller tier “{tier}”; use one of {', '.join(TIER_DISCOUNTS)}.")
    primary_color = validate_color(primary_color)
    secondary_color = validate_color(secondary_color)
    currency = (currency or settings.default_currency).upper()
    domains = [validate_domain(primary_domain or f"{slug}.{settings.platform_domain}")]
    if not is_house:
        subdomain = f"{slug}.{settings.platform_domain}"
        if subdomain not in domains:
            domains.append(subdomain)

    if session.exec(select(Tenant.id).where(Tenant.slug == slug)).first() is not None:
        raise DomainError(f"A tenant with slug “{slug}” already exists.")
    if is_house and session.exec(select(Tenant.id).where(Tenant.is_house)).first() is not None:
        raise DomainError("The house tenant already exists.")
    taken = session.exec(select(col(TenantDomain.domain)).where(col(TenantDomain.domain).in_(domains))).all()
    if taken:
        raise DomainError(f"Domain {taken[0]} is already in use.")

    now = clock.now()
    database_name = f"{settings.tenant_db_prefix}{slug.replace('-', '_')}"
    if session.get_bind().engine.url.database == database_name:
        raise DomainError(f"Slug “{slug}” would reuse the central database's name.")
    tenant = Tenant(
        name=name,
        slug=slug,
        database_name=database_name,
        status=TenantStatus.TRIAL if trial_ends_at else TenantStatus.ACTIVE,
        is_house=is_house,
        currency=currency,
        owner_email=owner_email.strip().lower(),
        owner_name=owner_name.strip(),
        created_at=now,
        trial_ends_at=trial_ends_at,
    )
    try:
        session.add(tenant)
        session.flush()
        for index, domain in enumerate(domains):
            kind = DomainType.PRIMARY if index == 0 else DomainType.ALIAS
            session.add(new_domain_row(row_id(tenant), domain, kind))
        session.add(
            TenantBranding(
                tenant_id=row_id(tenant),
                company_name=name,
                primary_color=primary_color,
                secondary_color=secondary_color,
                support_email=owner_email,
                from_email=f"noreply@{domains[0]}",
                from_name=name,
                updated_at=now,
            )
        )
        discount = None if is_house else TIER_DISCOUNTS[tier]
        session.add(
            TenantBilling(
                tenant_id=row_id(tenant),
                tier="house" if is_house else tier,
                wholesale_discount_percent=discount or Decimal(0),
                monthly_fee_minor=0 if is_house else TIER_FEES_MINOR[tier],
                currency=currency,
            )
        )
        session.flush()
        provision_tenant_database(database_name)
        with tenant_session_for(database_name) as tenant_db:
            seed_default_plans(tenant_db, currency=currency, wholesale_discount_percent=discount)
        session.commit()
    except Exception:
        session.rollback()
        drop_database(database_name)
        raise
    return tenant


def active_tenants(session: Session, *, include_suspended: bool = False) -> list[TenantInfo]:
    """The tenants a per-tenant fan-out visits, in id order: never a purged (deleted) one, whose
    database is gone; suspended ones only when asked (migrations, wholesale, analytics)."""
    query = select(Tenant).where(col(Tenant.status) != TenantStatus.DELETED).order_by(col(Tenant.id))
    if not include_suspended:
        query = query.where(Tenant.status != TenantStatus.SUSPENDED)
    return [TenantInfo.of(tenant) for tenant in session.exec(query)]


def upgrade_all(progress: Callable[[str, bool], None] | None = None) -> int:
    """Migrate central, the tenant template, then every tenant; returns how many databases
    changed. A tenant that fails is logged and skipped, and reported once all were tried."""
    changed = int(upgrade_central())
    try:
        ensure_template("tenant")
    except Exception:  # without a template, new tenants are migrated from scratch
        log.exception("building the tenant template failed")
    with central_session() as session:
        tenants = active_tenants(session, include_suspended=True)
    failed = []
    for tenant in tenants:
        try:
            did = upgrade_tenant(tenant.database_name)
        except Exception:  # one broken tenant database must not stop the others
            log.exception("migrating tenant %s failed", tenant.slug)
            failed.append(tenant.slug)
            continue
        changed += did
        if progress:
            progress(tenant.database_name, did)
    if failed:
        raise DomainError(f"Could not migrate the database of {', '.join(failed)}; see the log.")
    return changed


def find_tenant(session: Session, *, slug: str) -> Tenant | None:
    """The tenant with this slug, if any."""
    return session.exec(select(Tenant).where(Tenant.slug == slug)).first()


def get_tenant(session: Session, slug: str) -> Tenant:
    """The tenant with this slug; NotFound otherwise."""
    tenant = find_tenant(session, slug=slug)
    if tenant is None:
        raise NotFound(f"No tenant with slug “{slug}”.")
    return tenant


def list_tenants(session: Session) -> list[tuple[Tenant, list[str]]]:
    """Every tenant with its domains (primary first)."""
    tenants = session.exec(select(Tenant).order_by(col(Tenant.id))).all()
    domains: dict[int, list[str]] = {}
    for d in session.exec(select(TenantDomain).order_by(col(TenantDomain.type).desc(), col(TenantDomain.id))):
        domains.setdefault(d.tenant_id, []).append(d.domain)
    return [(t, domains.get(row_id(t), [])) for t in tenants]


def _audit_status(session: Session, tenant: Tenant, action: str, actor: "AuthUser | None", ip: str) -> None:
    # Imported here: the audit trail names its actor by session, and sessions need tenants.
    from ezscale.services.core.audit import record_audit

    if actor is not None:
        after = {"status": tenant.status}
        record_audit(
            session=session, actor=actor, action=action, target=f"tenant:{tenant.slug}", after=after, ip=ip
        )


def suspend_tenant(session: Session, slug: str, *, actor: "AuthUser | None" = None, ip: str = "") -> Tenant:
    """Suspend a tenant (an admin's decision); audited when an `actor` made it."""
    tenant = get_tenant(session, slug)
    if tenant.is_house:
        raise DomainError("The house tenant cannot be suspended.")
    if tenant.status is not TenantStatus.SUSPENDED:
        tenant.status = TenantStatus.SUSPENDED
        tenant.suspended_at = clock.now()
        tenant.suspension_reason = "admin"
        session.add(tenant)
    _audit_status(session, tenant, "reseller.suspend", actor, ip)
    session.commit()
    return tenant


def reactivate_tenant(
    session: Session, slug: str, *, actor: "AuthUser | None" = None, ip: str = ""
) -> Tenant:
    """Reopen a suspended tenant, or one whose deletion is still within its grace period."""
    tenant = get_tenant(session, slug)
    if tenant.status is TenantStatus.DELETED:
        raise DomainError(f"{tenant.name} was deleted; its data is only in the export now.")
    if tenant.status in (TenantStatus.SUSPENDED, TenantStatus.DELETING):
        tenant.status = TenantStatus.ACTIVE
        tenant.suspended_at = None
        tenant.suspension_reason = ""
        tenant.delete_after = None
        session.add(tenant)
    _audit_status(session, tenant, "reseller.reactivate", actor, ip)
    session.commit()
    return tenant


def tenant_id_of_database(session: Session, database_name: str) -> int:
    """The id of the tenant whose database is `database_name` (NotFound for none)."""
    found = session.exec(select(pk(Tenant.id)).where(Tenant.database_name == database_name)).first()
    if found is None:
        raise NotFound(f"No tenant has the database {database_name}.")
    return found


def tenant_info(tenant_id: int) -> TenantInfo:
    """The tenant with this id, detached from the session; NotFound otherwise."""
    with central_session() as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"No tenant with id {tenant_id}.")
        return TenantInfo.of(tenant)


@contextmanager
def tenant_session(tenant: TenantInfo) -> Iterator[Session]:
    """A session on this tenant's own database, and on no other; `session.info["tenant"]` is
    the tenant (what a service that keys records for systems shared by tenants reads)."""
    with tenant_session_for(tenant.database_name) as session:
        session.info["tenant"] = tenant
        yield session


def expire_trials(session: Session) -> list[str]:
    """End trials that are over: resellers with a card become active, the others are suspended
    until they add one. Returns the suspended slugs; running it again does nothing."""
    now = clock.now()
    ended = session.exec(
        select(Tenant, TenantBilling)
        .join(TenantBilling, col(TenantBilling.tenant_id) == col(Tenant.id))
        .where(col(Tenant.status) == TenantStatus.TRIAL, col(Tenant.trial_ends_at) <= now)
    ).all()
    suspended = []
    for tenant, billing in ended:
        if billing.stripe_payment_method_id:
            tenant.status = TenantStatus.ACTIVE
        else:
            tenant.status, tenant.suspended_at, tenant.suspension_reason = (
                TenantStatus.SUSPENDED,
                now,
                "trial_ended",
            )
            suspended.append(tenant.slug)
        session.add(tenant)
    session.commit()
    return suspended


def public_scheme() -> str:
    """The scheme browsers use for this site: http on a local (*.localhost) install, else https;
    EZSCALE_PUBLIC_SCHEME overrides it."""
    settings = get_settings()
    return settings.public_scheme or ("http" if settings.platform_domain == "localhost" else "https")


def site_url(domain: str) -> str:
    """Base URL of a tenant host: http with the app's port on a local (*.localhost) install,
    else https; EZSCALE_PUBLIC_SCHEME / EZSCALE_PUBLIC_PORT override either."""
    settings = get_settings()
    local = settings.platform_domain == "localhost"
    scheme = public_scheme()
    port = settings.public_port or (settings.port if local else None)
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{domain}" + (f":{port}" if port and port != default else "")
