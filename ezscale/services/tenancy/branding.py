"""A tenant's brand: editing it (validated, CSS sanitised) and rendering it as CSS variables
and a generated favicon, shared by the page and the API."""

import re
from dataclasses import dataclass
from html import escape

from sqlmodel import Session, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.central import Tenant, TenantBranding
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.resellers.roles import require_owner
from ezscale.services.tenancy.custom_css import sanitise_css
from ezscale.services.tenancy.tenants import EMAIL_RE, BrandingInfo, validate_color

DEFAULT_PRIMARY = "#3B82F6"
DEFAULT_SECONDARY = "#1E293B"


def brand_variables(primary: str, secondary: str) -> dict[str, str]:
    """CSS custom properties: our own `--brand-*` and the Radix accent scale derived from them."""
    return {
        "--brand-primary": primary,
        "--brand-secondary": secondary,
        "--accent-9": primary,
        "--accent-10": f"color-mix(in srgb, {primary} 88%, black)",
        "--accent-11": f"color-mix(in srgb, {primary} 80%, black)",
        "--accent-12": f"color-mix(in srgb, {primary} 45%, black)",
        "--accent-3": f"color-mix(in srgb, {primary} 12%, white)",
        "--accent-4": f"color-mix(in srgb, {primary} 18%, white)",
        "--accent-5": f"color-mix(in srgb, {primary} 26%, white)",
        "--accent-6": f"color-mix(in srgb, {primary} 36%, white)",
        "--accent-7": f"color-mix(in srgb, {primary} 48%, white)",
        "--accent-8": f"color-mix(in srgb, {primary} 64%, white)",
        "--accent-a3": f"color-mix(in srgb, {primary} 12%, transparent)",
        "--accent-a4": f"color-mix(in srgb, {primary} 18%, transparent)",
        "--accent-a5": f"color-mix(in srgb, {primary} 26%, transparent)",
        "--accent-a6": f"color-mix(in srgb, {primary} 36%, transparent)",
        "--accent-a7": f"color-mix(in srgb, {primary} 48%, transparent)",
        "--accent-a8": f"color-mix(in srgb, {primary} 64%, transparent)",
        "--accent-a9": primary,
        "--accent-a10": f"color-mix(in srgb, {primary} 88%, black)",
        "--accent-a11": f"color-mix(in srgb, {primary} 80%, black)",
        "--accent-a12": f"color-mix(in srgb, {primary} 45%, black)",
        "--accent-surface": f"color-mix(in srgb, {primary} 6%, white)",
        "--focus-8": primary,
        "--accent-contrast": "white",
    }


def theme_css(branding: BrandingInfo | None) -> str:
    """The host's theme: brand variables, then the tenant's (already sanitised) custom CSS."""
    primary = branding.primary_color if branding else DEFAULT_PRIMARY
    secondary = branding.secondary_color if branding else DEFAULT_SECONDARY
    body = ";".join(f"{k}:{v}" for k, v in brand_variables(primary, secondary).items())
    custom = branding.custom_css if branding and branding.custom_css else ""
    return f":root,.radix-themes{{{body}}}\n{custom}\n"


def favicon_svg(branding: BrandingInfo | None) -> str:
    """A monogram favicon in the brand colour, for tenants that have not uploaded one."""
    name = branding.company_name if branding else "EZSCALE"
    colour = branding.primary_color if branding else DEFAULT_PRIMARY
    letter = escape((name.strip() or "E")[0].upper())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" rx="7" fill="{escape(colour)}"/>'
        '<text x="16" y="22" font-family="sans-serif" font-size="18" font-weight="700" '
        f'fill="white" text-anchor="middle">{letter}</text></svg>'
    )


@dataclass(frozen=True)
class BrandingUpdate:
    """The branding form's values, validated before they are stored."""

    company_name: str
    primary_color: str
    secondary_color: str
    support_email: str = ""
    support_phone: str = ""
    from_name: str = ""
    from_email: str = ""
    custom_css: str = ""


AUDITED_FIELDS = (
    "company_name",
    "primary_color",
    "secondary_color",
    "support_email",
    "support_phone",
    "from_name",
    "from_email",
    "custom_css",
)
_PHONE = re.compile(r"^[+0-9 ().-]{0,40}$")


def update_branding(
    session: Session, *, actor: AuthUser, tenant_id: int, update: BrandingUpdate, ip: str = ""
) -> TenantBranding:
    """Validate everything first, then save; a bad field changes nothing."""
    require_owner(actor, tenant_id, "change the branding")
    name = update.company_name.strip()
    if not name or len(name) > 120:
        raise DomainError("Company name is required (at most 120 characters).")
    primary = validate_color(update.primary_color)
    secondary = validate_color(update.secondary_color)
    for label, email in (("Support email", update.support_email), ("From address", update.from_email)):
        if email and not EMAIL_RE.match(email.strip()):
            raise DomainError(f"{label} “{email}” is not a valid email address.")
    if not _PHONE.match(update.support_phone.strip()):
        raise DomainError("Support phone may contain digits, spaces, +, -, ( and ) only.")
    css = sanitise_css(update.custom_css)
    branding = get_branding(session, tenant_id=tenant_id)
    before = {field: getattr(branding, field) for field in AUDITED_FIELDS}
    branding.company_name = name
    branding.primary_color = primary
    branding.secondary_color = secondary
    branding.support_email = update.support_email.strip() or None
    branding.support_phone = update.support_phone.strip() or None
    branding.from_name = update.from_name.strip()[:120] or None
    branding.from_email = update.from_email.strip() or None
    branding.custom_css = css or None
    branding.updated_at = clock.now()
    session.add(branding)
    tenant = session.get(Tenant, tenant_id)
    record_audit(
        session=session,
        actor=actor,
        action="branding.update",
        target=f"tenant:{tenant.slug if tenant else tenant_id}",
        before=before,
        after={field: getattr(branding, field) for field in AUDITED_FIELDS},
        ip=ip,
    )
    session.commit()
    return branding


def get_branding(session: Session, *, tenant_id: int) -> TenantBranding:
    """The tenant's branding row; NotFound if it has none."""
    branding = session.exec(select(TenantBranding).where(TenantBranding.tenant_id == tenant_id)).first()
    if branding is None:
        raise NotFound("This tenant has no branding row.")
    return branding
