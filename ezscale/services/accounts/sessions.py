"""Server-side sessions: a random token in the browser, only its SHA-256 hash in the database.

A customer or reseller session lives in its tenant's database, so a token can only ever be
valid on that tenant's hosts; a platform admin session lives centrally and is only honoured on
the house (platform) host.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.auth import AdminSession, SessionBase, UserSession
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import User
from ezscale.models.types import row_id
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings

TOUCH_EVERY = timedelta(minutes=5)
# The browser cookies: the session token, and the device the login guard remembers (`remember_device`).
SESSION_COOKIE = "ezscale_session"
DEVICE_COOKIE = "ezscale_device"


class AuthRole(StrEnum):
    """Who a session belongs to; it decides which areas the session may open."""

    CUSTOMER = "customer"
    RESELLER_OWNER = "reseller_owner"
    RESELLER_BILLING = "reseller_billing"
    RESELLER_STAFF = "reseller_staff"
    PLATFORM_ADMIN = "platform_admin"


RESELLER_ROLES = frozenset({AuthRole.RESELLER_OWNER, AuthRole.RESELLER_BILLING, AuthRole.RESELLER_STAFF})


@dataclass(frozen=True, slots=True)
class AuthUser:
    """Who is signed in. For a platform admin, tenant_id is the house tenant's id."""

    id: int
    tenant_id: int
    email: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        """Whether the session is a platform admin's."""
        return self.role == AuthRole.PLATFORM_ADMIN

    @property
    def is_reseller(self) -> bool:
        """Whether the session is a reseller owner's or staff member's."""
        return self.role in RESELLER_ROLES


def hash_token(token: str) -> str:
    """Only this digest of a session token is stored, so a database leak yields no usable session."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A new random session token (256 bits)."""
    return secrets.token_urlsafe(32)


def _expiry() -> datetime:
    return clock.now() + timedelta(hours=get_settings().session_hours)


def create_user_session(
    session: Session, *, user: User, method: str, ip: str = "", user_agent: str = ""
) -> str:
    """Open a session for a tenant user; returns the token for the browser (never stored)."""
    token, now = new_token(), clock.now()
    session.add(
        UserSession(
            user_id=row_id(user),
            token_hash=hash_token(token),
            method=method,
            ip=ip[:45],
            user_agent=user_agent[:300],
            created_at=now,
            last_seen_at=now,
            expires_at=_expiry(),
        )
    )
    session.commit()
    return token


def create_admin_session(
    session: Session, *, admin: PlatformAdmin, method: str, ip: str = "", user_agent: str = ""
) -> str:
    """Start a platform admin session and return its token for the cookie."""
    token, now = new_token(), clock.now()
    session.add(
        AdminSession(
            admin_id=row_id(admin),
            token_hash=hash_token(token),
            method=method,
            ip=ip[:45],
            user_agent=user_agent[:300],
            created_at=now,
            last_seen_at=now,
            expires_at=_expiry(),
        )
    )
    session.commit()
    return token


def _live(row: SessionBase) -> bool:
    return row.revoked_at is None and row.expires_at > clock.now()


def _touch(session: Session, row: SessionBase) -> None:
    now = clock.now()
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
        session.commit()


def user_for_token(session: Session, *, tenant: TenantInfo, token: str) -> AuthUser | None:
    """The tenant user a token belongs to, if its session is live and the account active."""
    if not token:
        return None
    row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    if row is None or not _live(row):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    _touch(session, row)
    return AuthUser(row_id(user), tenant.id, user.email, user.name, user.role.value)


def admin_for_token(session: Session, *, tenant: TenantInfo, token: str) -> AuthUser | None:
    """The platform admin of a central session; only on the house host."""
    if not token or not tenant.is_house:
        return None
    row = session.exec(select(AdminSession).where(AdminSession.token_hash == hash_token(token))).first()
    if row is None or not _live(row):
        return None
    admin = session.get(PlatformAdmin, row.admin_id)
    if admin is None or not admin.is_active or admin.totp_enabled_at is None:
        return None
    _touch(session, row)
    return AuthUser(row_id(admin), tenant.id, admin.email, admin.name, AuthRole.PLATFORM_ADMIN.value)


def current_user(*, tenant: TenantInfo, token: str) -> AuthUser | None:
    """Validate a browser's token for the tenant of the current host (tenant DB, then admin)."""
    if not token:
        return None
    with tenant_session(tenant) as session:
        user = user_for_token(session, tenant=tenant, token=token)
    if user is None and tenant.is_house:
        with central_session() as session:
            user = admin_for_token(session, tenant=tenant, token=token)
    return user


def end_session(*, tenant: TenantInfo, token: str) -> None:
    """Log out this browser (whichever kind of session the token is)."""
    if not token:
        return
    digest, now = hash_token(token), clock.now()
    with tenant_session(tenant) as session:
        for row in session.exec(select(UserSession).where(UserSession.token_hash == digest)):
            row.revoked_at = row.revoked_at or now
            session.add(row)
        session.commit()
    with central_session() as session:
        for admin_row in session.exec(select(AdminSession).where(AdminSession.token_hash == digest)):
            admin_row.revoked_at = admin_row.revoked_at or now
            session.add(admin_row)
        session.commit()


def revoke_user_sessions(session: Session, *, user_id: int, keep_token: str | None = None) -> int:
    """Log out everywhere (optionally keeping this browser's session); returns how many ended."""
    keep = hash_token(keep_token) if keep_token else None
    now = clock.now()
    rows = session.exec(
        select(UserSession).where(UserSession.user_id == user_id, col(UserSession.revoked_at).is_(None))
    ).all()
    ended = 0
    for row in rows:
        if row.token_hash != keep:
            row.revoked_at = now
            session.add(row)
            ended += 1
    session.commit()
    return ended


def revoke_admin_sessions(session: Session, *, admin_id: int, keep_token: str | None = None) -> int:
    """Revoke the admin's sessions, except the one with `keep_token`; returns how many."""
    keep = hash_token(keep_token) if keep_token else None
    now = clock.now()
    rows = session.exec(
        select(AdminSession).where(AdminSession.admin_id == admin_id, col(AdminSession.revoked_at).is_(None))
    ).all()
    for row in rows:
        if row.token_hash != keep:
            row.revoked_at = now
            session.add(row)
    session.commit()
    return sum(1 for r in rows if r.token_hash != keep)


def session_method(session: Session, *, token: str) -> str | None:
    """How the customer session of `token` was opened ("password", "impersonation"…), or None."""
    row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    return row.method if row is not None else None


def list_user_sessions(session: Session, *, user_id: int) -> list[UserSession]:
    """The customer's live sessions (not revoked, not expired), newest first."""
    now = clock.now()
    return list(
        session.exec(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                col(UserSession.revoked_at).is_(None),
                UserSession.expires_at > now,
            )
            .order_by(col(UserSession.created_at).desc())
        )
    )
