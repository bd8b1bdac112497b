"""Logo and favicon uploads: checked by content (not by name), stored in the tenant's own folder,
served only on that tenant's hosts."""

import hashlib
import io
import re
import warnings
from pathlib import Path

from PIL import Image
from sqlmodel import Session

from ezscale import clock
from ezscale.errors import DomainError
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.resellers.roles import require_owner
from ezscale.services.tenancy.branding import get_branding
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings

ASSET_ROUTE = "/tenant-assets"
LIMITS = {"logo": 512 * 1024, "favicon": 128 * 1024}
# A small file can declare a huge canvas (a 48 kB PNG of 20000×20000 pixels) that every browser
# showing the logo would have to decode.
MAX_SIDE = {"logo": 2048, "favicon": 512}
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
    (b"\x00\x00\x01\x00", "ico", "image/x-icon"),
)
CONTENT_TYPES = {ext: mime for _, ext, mime in _SIGNATURES} | {"webp": "image/webp"}
_NAME = re.compile(r"^(logo|favicon)-[0-9a-f]{16}\.(png|jpg|gif|ico|webp)$")


def _image_type(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext, _ in _SIGNATURES if data.startswith(magic)), None)


def _check_dimensions(kind: str, data: bytes) -> None:
    """Read only the image header (Pillow opens lazily) and refuse oversized canvases."""
    side = MAX_SIDE[kind]
    too_large = f"The {kind} must be at most {side}×{side} pixels"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DomainError(f"{too_large}.") from None
    except (OSError, SyntaxError, ValueError):
        raise DomainError(f"The {kind} is not a readable image.") from None
    if width > side or height > side:
        raise DomainError(f"{too_large} (this one is {width}×{height}).")


def tenant_asset_dir(slug: str) -> Path:
    """Where a tenant's uploaded logo and favicon are stored."""
    return get_settings().data_dir / "tenants" / slug / "assets"


def store_asset(
    session: Session, *, actor: AuthUser, tenant: TenantInfo, kind: str, data: bytes, ip: str = ""
) -> str:
    """Save an uploaded logo or favicon and point the branding at it; returns its URL."""
    require_owner(actor, tenant.id, "change the branding")
    if kind not in LIMITS:
        raise DomainError("Upload a logo or a favicon.")
    if not data:
        raise DomainError("The file is empty.")
    if len(data) > LIMITS[kind]:
        raise DomainError(f"The {kind} must be at most {LIMITS[kind] // 1024} KB.")
    ext = _image_type(data)
    if ext is None or (kind == "logo" and ext == "ico"):
        allowed = "PNG, JPEG, GIF or WebP" + (" or ICO" if kind == "favicon" else "")
        raise DomainError(f"The {kind} must be a {allowed} image.")
    _check_dimensions(kind, data)
    branding = get_branding(session, tenant_id=tenant.id)
    name = f"{kind}-{hashlib.sha256(data).hexdigest()[:16]}.{ext}"
    folder = tenant_asset_dir(tenant.slug)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    url = f"{ASSET_ROUTE}/{name}"
    setattr(branding, f"{kind}_url", url)
    branding.updated_at = clock.now()
    session.add(branding)
    record_audit(
        session=session,
        actor=actor,
        action=f"branding.{kind}",
        target=f"tenant:{tenant.slug}",
        after={"url": url},
        ip=ip,
    )
    session.commit()
    return url


def asset_file(slug: str, name: str) -> Path | None:
    """The stored file of this tenant with that name, if any (names are validated, no paths)."""
    if not _NAME.match(name):
        return None
    path = tenant_asset_dir(slug) / name
    return path if path.is_file() else None
