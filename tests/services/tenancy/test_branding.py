import base64
import json
import struct
import zlib

import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.central import TenantBranding
from ezscale.services.core.audit import AuditFilter, list_audit
from ezscale.services.tenancy.brand_assets import asset_file, store_asset
from ezscale.services.tenancy.branding import BrandingUpdate, sanitise_css, theme_css, update_branding
from ezscale.services.tenancy.tenants import BrandingInfo, TenantInfo, resolve_host
from ezscale.settings import get_settings
from tests.actors import audit_trail, owner

# A real 1×1 PNG: uploads are opened as images (dimensions are checked).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _update(**changes) -> BrandingUpdate:
    return BrandingUpdate(
        **{"company_name": "Acme", "primary_color": "#112233", "secondary_color": "#445566", **changes}
    )


@pytest.mark.parametrize(
    ("css", "message"),
    [
        ("@import url(/x.css);", "@import"),
        ("body{background:url(https://evil.example/x.png)}", "points to another host"),
        ("body{background:url('//evil.example/x.png')}", "points to another host"),
        ("</style><script>alert(1)</script>", "</style>"),
        ("a{width:expression(alert(1))}", "expressions"),
        ("a{background:url(javascript:alert(1))}", "javascript"),
        ("a{b:c", "unbalanced"),
        ("a{x:\\69mport}", "Backslash"),
        ("a{}" * 8000, "20 kB"),
    ],
)
def test_custom_css_is_refused_when_dangerous(css, message):
    with pytest.raises(DomainError, match=message):
        sanitise_css(css)


@pytest.mark.parametrize(
    "css",
    [
        'a{background:image-set("http://evil.example/x.png" 1x)}',
        'a{background:-webkit-image-set("http://evil.example/x.png" 1x)}',
        "a{background:image-set(url(https://evil.example/x.png) 1x)}",
        'a{background:url("/\t/evil.example/x.png")}',
        "a{background:url(/\n/evil.example/x.png)}",
        "a{background:url(http://evil.example/x.png}",
        "a{background:url(http://evil.example/x.png)",
        "@font-face{font-family:x;src:url(https://evil.example/f.woff2)}",
        "@media screen{a{background:url(//evil.example/x)}}",
        "a{--bg:url(https://evil.example/x.png)}",
        "a{behavior:url(/x.htc)}",
        "a{-moz-binding:url(/x.xml)}",
        'a{background:src("https://evil.example/x.png")}',
        "a{background:cross-fade(url(/a.png),url(/b.png))}",
        "@namespace svg url(http://www.w3.org/2000/svg);",
        "@charset 'utf-8';",
        'a{content:"x',
    ],
)
def test_custom_css_filter_bypasses_are_refused(css):
    with pytest.raises(DomainError):
        sanitise_css(css)


def test_ordinary_custom_css_is_accepted_unchanged():
    css = (
        ".hero{background:url(/tenant-assets/logo-0123456789abcdef.png) no-repeat;color:#fff}\n"
        ".card > .title{font:600 1.2rem/1.4 system-ui,sans-serif;-webkit-font-smoothing:auto}\n"
        ".btn:hover{background:linear-gradient(90deg,rgb(0 0 0/50%),var(--brand-primary));"
        "transition:opacity .2s cubic-bezier(.4,0,.2,1)}\n"
        "@media (max-width:600px){.hero{padding:calc(1rem + 2px) 0}}\n"
        "@keyframes pulse{from{opacity:1}to{opacity:.5}}\n"
        ".x{background-image:url('data:image/png;base64,iVBORw0KGgo=');--gap:8px;gap:var(--gap)}\n"
        '.q::before{content:"\u201c"}'
    )
    assert sanitise_css(css) == css


def test_custom_css_that_is_fine_passes_through():
    css = ".hero{background:url(/tenant-assets/logo-0123456789abcdef.png) no-repeat;color:#fff}"
    assert sanitise_css(f"  {css}\r\n") == css


def test_update_branding_validates_everything_and_changes_nothing_on_error(make_tenant, central):
    acme = make_tenant("acme", name="Acme")
    for bad in (
        _update(primary_color="blue"),
        _update(company_name=" "),
        _update(support_email="nope"),
        _update(support_phone="<script>"),
        _update(custom_css="@import url(x)"),
    ):
        with pytest.raises(DomainError):
            update_branding(central, actor=owner(acme), tenant_id=acme.id, update=bad)
    row = central.exec(select(TenantBranding).where(TenantBranding.tenant_id == acme.id)).one()
    assert (row.company_name, row.primary_color) == ("Acme", "#3B82F6")

    update_branding(
        central,
        actor=owner(acme),
        tenant_id=acme.id,
        update=_update(company_name="Acme Cloud", custom_css=".x{color:red}"),
    )
    found = resolve_host(central, f"acme.{get_settings().platform_domain}")
    assert found.branding.company_name == "Acme Cloud"
    assert found.branding.primary_color == "#112233"
    assert ".x{color:red}" in theme_css(found.branding)
    assert "--brand-primary:#112233" in theme_css(found.branding)


def test_logo_upload_checks_content_and_stays_in_the_tenant_folder(make_tenant, central):
    acme = make_tenant("acme")
    make_tenant("beta")
    info = TenantInfo.of(acme)
    with pytest.raises(DomainError, match="must be a PNG"):
        store_asset(central, actor=owner(info), tenant=info, kind="logo", data=b"<svg onload=alert(1)>")
    with pytest.raises(DomainError, match="at most 512 KB"):
        store_asset(central, actor=owner(info), tenant=info, kind="logo", data=PNG + b"\x00" * 600_000)
    with pytest.raises(DomainError, match="empty"):
        store_asset(central, actor=owner(info), tenant=info, kind="logo", data=b"")
    url = store_asset(central, actor=owner(info), tenant=info, kind="logo", data=PNG)
    name = url.rsplit("/", 1)[1]
    assert asset_file("acme", name).read_bytes() == PNG
    assert asset_file("beta", name) is None  # another tenant's host never serves it
    assert asset_file("acme", "../../central.sqlite") is None
    branding = BrandingInfo.of(
        central.exec(select(TenantBranding).where(TenantBranding.tenant_id == acme.id)).one()
    )
    assert branding.logo_url == url


def _png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A real 1-bit PNG of width×height black pixels: tens of kB that decode to 400 M pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + width // 8)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_a_decompression_bomb_logo_is_refused_by_its_declared_dimensions(make_tenant, central):
    acme = TenantInfo.of(make_tenant("acme"))
    bomb = _png_bomb()
    assert len(bomb) < 128 * 1024  # small enough for both size limits
    for kind, side in (("logo", 2048), ("favicon", 512)):
        with pytest.raises(DomainError, match=f"at most {side}×{side} pixels"):
            store_asset(central, actor=owner(acme), tenant=acme, kind=kind, data=bomb)
    with pytest.raises(DomainError, match="this one is 1024×8"):
        store_asset(central, actor=owner(acme), tenant=acme, kind="favicon", data=_png_bomb(1024, 8))
    with pytest.raises(DomainError, match="not a readable image"):
        store_asset(
            central, actor=owner(acme), tenant=acme, kind="logo", data=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        )
    branding = central.exec(select(TenantBranding).where(TenantBranding.tenant_id == acme.id)).one()
    assert branding.logo_url is None and branding.favicon_url is None
    assert store_asset(
        central, actor=owner(acme), tenant=acme, kind="logo", data=_png_bomb(400, 100)
    ).endswith(".png")


def test_branding_changes_are_audited_by_the_service_with_before_and_after(make_tenant, central):
    acme = make_tenant("acme", name="Acme")
    info = TenantInfo.of(acme)
    with pytest.raises(DomainError):
        update_branding(central, actor=owner(acme), tenant_id=acme.id, update=_update(primary_color="blue"))
    assert audit_trail("branding.") == []
    update_branding(
        central,
        actor=owner(acme),
        tenant_id=acme.id,
        update=_update(company_name="Acme Cloud"),
        ip="192.0.2.8",
    )
    url = store_asset(central, actor=owner(info), tenant=info, kind="logo", data=PNG)
    [(actor, action, target, after, ip), logo] = audit_trail("branding.")
    assert (actor, action, target, ip) == (
        "owner@reseller.test",
        "branding.update",
        "tenant:acme",
        "192.0.2.8",
    )
    assert after["company_name"] == "Acme Cloud" and after["primary_color"] == "#112233"
    [entry] = [e for e in list_audit(AuditFilter(action="branding.update"))]
    assert json.loads(entry.before)["company_name"] == "Acme"
    assert logo[1:4] == ("branding.logo", "tenant:acme", {"url": url})
