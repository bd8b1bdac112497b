"""A tenant's brand as CSS variables (and a generated favicon), shared by the page and the API."""

from html import escape

from ezscale.services.tenancy import BrandingInfo

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
        "--accent-a3": f"color-mix(in srgb, {primary} 12%, transparent)",
        "--accent-a4": f"color-mix(in srgb, {primary} 18%, transparent)",
        "--accent-contrast": "white",
    }


def theme_css(branding: BrandingInfo | None) -> str:
    primary = branding.primary_color if branding else DEFAULT_PRIMARY
    secondary = branding.secondary_color if branding else DEFAULT_SECONDARY
    body = ";".join(f"{k}:{v}" for k, v in brand_variables(primary, secondary).items())
    return f":root,.radix-themes{{{body}}}\n"


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
