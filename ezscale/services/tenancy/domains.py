"""Tenant domains: adding custom domains, proving ownership (DNS TXT or HTTP token), primary
choice, where the domain must point (CNAME, or A/AAAA at an apex), the on-demand TLS question a
web server such as Caddy asks before issuing a cert, and the check that the cert is served.

TLS status of a custom domain: `pending` until Caddy asks for it, `requested` once the ask was
approved (a verified domain), then `active` or `failed` (with the reason) from the periodic check
that connects over HTTPS and verifies the certificate for the domain's name.

The token is a secret shown only in the tenant's reseller area. EZSCALE itself never serves it:
a domain already pointed at EZSCALE (say, one a former reseller left behind) must not verify
for whoever claims it, so the HTTP proof has to come from a server the claimant controls.
"""

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum

import dns.exception
import dns.resolver
import httpx
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.central import (
    DomainType,
    SslStatus,
    Tenant,
    TenantDomain,
    TenantStatus,
    VerificationStatus,
)
from ezscale.models.types import row_id
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.resellers.roles import require_owner
from ezscale.services.tenancy.tenants import (
    HostStatus,
    is_platform_host,
    new_domain_row,
    resolve_host,
    site_url,
    validate_domain,
)
from ezscale.settings import get_settings

CHALLENGE_LABEL = "_ezscale-challenge"
WELL_KNOWN_PATH = "/.well-known/ezscale-domain-verification"


class Method(StrEnum):
    """How a domain's ownership is proven: a DNS TXT record or a file served over HTTP."""

    DNS = "dns"
    HTTP = "http"


def txt_record_value(token: str) -> str:
    """The TXT record a tenant publishes to prove it owns a domain."""
    return f"ezscale-verification={token}"


def edge_host() -> str:
    """The host custom domains point at by CNAME."""
    return get_settings().edge_host or f"edge.{get_settings().platform_domain}"


def routing(domain: str) -> tuple[str, str]:
    """The DNS record that sends `domain` to EZSCALE, as (type, value). A CNAME, except at a
    zone apex (taken as a name of two labels: `shop.example` — a CNAME is not allowed there),
    which needs A/AAAA records to the edge's addresses."""
    settings = get_settings()
    if domain.count(".") > 1 or not (settings.edge_ipv4 or settings.edge_ipv6):
        return "CNAME", edge_host()
    kinds = [("A", settings.edge_ipv4), ("AAAA", settings.edge_ipv6)]
    return " / ".join(k for k, v in kinds if v), " and ".join(v for _, v in kinds if v)


def instructions(domain: TenantDomain) -> dict[str, str]:
    """What the reseller must publish: the record that routes the domain here, and the proof
    of ownership for either method."""
    record_type, record_value = routing(domain.domain)
    return {
        "route_type": record_type,
        "route_value": record_value,
        "dns_name": f"{CHALLENGE_LABEL}.{domain.domain}",
        "dns_value": txt_record_value(domain.verification_token),
        "http_url": f"http://{domain.domain}{WELL_KNOWN_PATH}",
        "http_body": domain.verification_token,
    }


@dataclass(frozen=True, slots=True)
class DomainRow:
    """A reseller's domain as its domains page shows it, with what to publish while it is not
    verified (the `instructions`; all "" once there is no token to prove)."""

    id: int
    domain: str
    type: str
    status: str
    error: str
    tls: str
    tls_error: str
    route_type: str = ""
    route_value: str = ""
    dns_name: str = ""
    dns_value: str = ""
    http_url: str = ""
    http_body: str = ""


def domain_rows(session: Session, *, tenant_id: int) -> list[DomainRow]:
    """The tenant's domains as its domains page lists them, in the order they were added."""
    return [
        DomainRow(
            id=row_id(row),
            domain=row.domain,
            type=row.type.value,
            status=row.verification_status.value,
            error=row.verification_error,
            tls=row.ssl_status.value,
            tls_error=row.ssl_error,
            **(instructions(row) if row.verification_token else {}),
        )
        for row in list_domains(session, tenant_id=tenant_id)
    ]


def list_domains(session: Session, *, tenant_id: int) -> list[TenantDomain]:
    """The tenant's domains in the order they were added."""
    return list(
        session.exec(
            select(TenantDomain)
            .where(col(TenantDomain.tenant_id) == tenant_id)
            .order_by(col(TenantDomain.id))
        ).all()
    )


def _get(session: Session, tenant_id: int, domain_id: int) -> TenantDomain:
    row = session.get(TenantDomain, domain_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("No such domain on this account.")
    return row


# Special-use and private-network names (RFC 6761, 6762, 7686, 8375 and common internal suffixes).
RESERVED_SUFFIXES = ("localhost", "local", "internal", "example", "test", "invalid", "onion", "arpa", "lan")


def _check_claimable(name: str) -> None:
    """A public DNS name someone can own: not an IP literal, not reserved, not the platform's."""
    if is_platform_host(name):
        raise DomainError(f"Subdomains of {get_settings().platform_domain} are reserved.")
    labels = name.split(".")
    try:
        ipaddress.ip_address(name)
        is_ip = True
    except ValueError:
        is_ip = labels[-1].isdigit()  # also 127.1 or 0x7f.1, which resolvers read as addresses
    if is_ip:
        raise DomainError(f"{name} is an IP address; add a domain name.")
    if len(labels) < 2:
        raise DomainError(f"{name} is not a full domain name (such as shop.example.com).")
    if labels[-1] in RESERVED_SUFFIXES:
        raise DomainError(f"{name} is a reserved name (.{labels[-1]}) and cannot be a storefront domain.")


def _audit(session: Session, actor: AuthUser, tenant_id: int, action: str, ip: str, **after: str) -> None:
    tenant = session.get(Tenant, tenant_id)
    slug = tenant.slug if tenant is not None else str(tenant_id)
    record_audit(session=session, actor=actor, action=action, target=f"tenant:{slug}", after=after, ip=ip)


def add_domain(
    session: Session, *, actor: AuthUser, tenant_id: int, domain: str, ip: str = ""
) -> TenantDomain:
    """Add a custom alias domain; it serves the storefront once verified."""
    require_owner(actor, tenant_id, "add domains")
    name = validate_domain(domain)
    _check_claimable(name)
    if session.exec(select(TenantDomain.id).where(TenantDomain.domain == name)).first():
        raise DomainError(f"Domain {name} is already in use.")
    row = new_domain_row(tenant_id, name, DomainType.ALIAS)
    session.add(row)
    _audit(session, actor, tenant_id, "domain.add", ip, domain=domain)
    session.commit()
    return row


def remove_domain(session: Session, *, actor: AuthUser, tenant_id: int, domain_id: int, ip: str = "") -> None:
    """Remove one of the tenant's domains (owner only); the primary domain cannot be removed."""
    require_owner(actor, tenant_id, "remove domains")
    row = _get(session, tenant_id, domain_id)
    if row.type is DomainType.PRIMARY:
        raise DomainError("Make another domain primary before removing this one.")
    if is_platform_host(row.domain):
        raise DomainError("The platform subdomain cannot be removed.")
    session.delete(row)
    _audit(session, actor, tenant_id, "domain.remove", ip, domain_id=str(domain_id))
    session.commit()


def set_primary(
    session: Session, *, actor: AuthUser, tenant_id: int, domain_id: int, ip: str = ""
) -> TenantDomain:
    """Make a verified domain the tenant's primary one (owner only)."""
    require_owner(actor, tenant_id, "choose the primary domain")
    row = _get(session, tenant_id, domain_id)
    if row.verification_status is not VerificationStatus.VERIFIED:
        raise DomainError(f"Verify {row.domain} before making it the primary domain.")
    for other in list_domains(session, tenant_id=tenant_id):
        other.type = DomainType.PRIMARY if other.id == row.id else DomainType.ALIAS
        session.add(other)
    _audit(session, actor, tenant_id, "domain.primary", ip, domain_id=str(domain_id))
    session.commit()
    return row


def _resolver() -> dns.resolver.Resolver:
    settings = get_settings()
    if not settings.dns_nameservers:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = []
    for entry in settings.dns_nameservers.split(","):
        host, _, port = entry.strip().partition(":")
        resolver.nameservers.append(host)
        if port:
            resolver.port = int(port)
    resolver.lifetime = 5.0
    return resolver


def check_dns(domain: str, token: str) -> str | None:
    """None when the TXT record proves ownership, else the reason it does not."""
    name = f"{CHALLENGE_LABEL}.{domain}"
    expected = txt_record_value(token)
    try:
        answer = _resolver().resolve(name, "TXT")
    except dns.resolver.NXDOMAIN:
        return f"No DNS record exists at {name}."
    except dns.resolver.NoAnswer:
        return f"{name} has no TXT record."
    except dns.exception.Timeout:
        return f"The DNS lookup of {name} timed out; try again later."
    except dns.exception.DNSException as error:
        return f"The DNS lookup of {name} failed ({error.__class__.__name__})."
    values = [b"".join(r.strings).decode(errors="replace") for r in answer]
    if expected in values:
        return None
    return f"The TXT record at {name} is {', '.join(map(repr, values))}; expected {expected!r}."


def check_http(domain: str, token: str) -> str | None:
    """None when http://<domain>/.well-known/… answers the token, else the reason."""
    base = get_settings().domain_check_http_base or f"http://{domain}"
    url = f"http://{domain}{WELL_KNOWN_PATH}"
    try:
        response = httpx.get(
            base + WELL_KNOWN_PATH, headers={"Host": domain}, timeout=5.0, follow_redirects=False
        )
    except httpx.TimeoutException:
        return f"{url} did not answer in time."
    except httpx.HTTPError:
        return f"Could not connect to {url}."
    if response.status_code != 200:
        return f"{url} answered HTTP {response.status_code}, expected 200 with the token."
    if response.text.strip() != token:
        return f"{url} answered, but not with this domain's verification token."
    return None


def verify_domain(
    session: Session, *, actor: AuthUser, tenant_id: int, domain_id: int, method: str, ip: str = ""
) -> TenantDomain:
    """Check ownership now and record the result (status, reason, time)."""
    require_owner(actor, tenant_id, "verify domains")
    row = _get(session, tenant_id, domain_id)
    if row.verification_status is VerificationStatus.VERIFIED:
        _audit(session, actor, tenant_id, "domain.verify", ip, domain_id=str(domain_id))
        session.commit()
        return row
    try:
        chosen = Method(method)
    except ValueError:
        raise DomainError("Choose DNS or HTTP verification.") from None
    error = (check_dns if chosen is Method.DNS else check_http)(row.domain, row.verification_token)
    now = clock.now()
    row.last_checked_at = now
    row.verification_error = error or ""
    row.verification_status = VerificationStatus.FAILED if error else VerificationStatus.VERIFIED
    row.verified_at = None if error else now
    session.add(row)
    _audit(session, actor, tenant_id, "domain.verify", ip, domain_id=str(domain_id))
    session.commit()
    return row


def tls_allowed(session: Session, domain: str) -> bool:
    """Caddy's on-demand TLS `ask`: issue a certificate only for verified domains of a tenant.
    An approved ask moves the domain's TLS status to `requested` (committed)."""
    try:
        name = validate_domain(domain)
    except DomainError:
        return False
    row = session.exec(
        select(TenantDomain)
        .join(Tenant, col(Tenant.id) == col(TenantDomain.tenant_id))
        .where(col(TenantDomain.domain) == name)
    ).first()
    allowed = row is not None and row.verification_status is VerificationStatus.VERIFIED
    if row is not None and allowed and row.ssl_status in (SslStatus.PENDING, SslStatus.FAILED):
        row.ssl_status = SslStatus.REQUESTED
        session.add(row)
        session.commit()
    return allowed


def check_tls(domain: str) -> str | None:
    """None when `domain` serves a certificate valid for its name over HTTPS, else the reason."""
    settings = get_settings()
    host, _, port = (settings.tls_check_address or f"{domain}:443").rpartition(":")
    context = ssl.create_default_context(
        cafile=str(settings.tls_check_ca_file) if settings.tls_check_ca_file else None
    )
    try:
        with (
            socket.create_connection((host, int(port)), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=domain),
        ):
            return None
    except ssl.SSLCertVerificationError as error:
        return f"The certificate served for {domain} is not valid: {error.verify_message}."
    except ssl.SSLError as error:
        return f"TLS handshake with {domain} failed ({error.reason or 'no certificate yet'})."
    except TimeoutError:
        return f"{domain} did not answer on port {port} in time."
    except OSError:
        return f"Could not connect to {domain} on port {port}."


def check_certificates(session: Session) -> dict[str, str]:
    """Check every verified custom domain's certificate and record the outcome; returns each
    domain's TLS status."""
    rows = session.exec(
        select(TenantDomain)
        .join(Tenant, col(Tenant.id) == col(TenantDomain.tenant_id))
        .where(
            col(TenantDomain.verification_status) == VerificationStatus.VERIFIED,
            col(Tenant.status).not_in((TenantStatus.DELETING, TenantStatus.DELETED)),
        )
        .order_by(col(TenantDomain.id))
    ).all()
    outcome = {}
    for row in rows:
        if is_platform_host(row.domain):
            continue  # served under the platform's own certificate
        error = check_tls(row.domain)
        row.ssl_status = SslStatus.FAILED if error else SslStatus.ACTIVE
        row.ssl_error = error or ""
        row.ssl_checked_at = clock.now()
        session.add(row)
        session.commit()
        outcome[row.domain] = row.ssl_status.value
    return outcome


def tenant_origins(session: Session, *, host: str) -> frozenset[str]:
    """The origins (scheme://host[:port]) of every verified domain of the tenant this Host
    belongs to: the only origins allowed to make credentialed cross-origin requests to it."""
    found = resolve_host(session, host)
    if found.status is not HostStatus.OK or found.tenant is None:
        return frozenset()
    rows = session.exec(
        select(TenantDomain.domain).where(
            TenantDomain.tenant_id == found.tenant.id,
            TenantDomain.verification_status == VerificationStatus.VERIFIED,
        )
    )
    return frozenset(site_url(domain) for domain in rows)
