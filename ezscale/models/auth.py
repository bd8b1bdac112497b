"""Accounts and security: sessions, one-time email tokens, 2FA, login history, audit, mail outbox.

Customer and reseller data lives in each tenant's database; platform admins, the audit trail
(admin and reseller changes, filterable in one place) and platform mail live centrally.
Tokens and recovery codes are stored only as SHA-256 hashes; TOTP secrets encrypted.
"""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ezscale.models.tenant import TenantModel
from ezscale.models.types import enum_field, utc_field
from ezscale.services.core.crypto import EncryptedString


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    CHANGE_EMAIL = "change_email"


class MailStatus(StrEnum):
    PENDING = "pending"  # written in a business transaction; sender and delivery come after it
    OUTBOX = "outbox"  # no SMTP configured: the outbox is the delivery
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


# Twin tables (a customer's and an admin's session, sign-in history, mail outbox) share their
# columns through the non-table bases below; each table adds only its owner key and its schema.


class SessionBase(SQLModel):
    """A signed-in browser: the token's hash, how it signed in, and when it lapses."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    method: str = Field(default="password", max_length=20)
    ip: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=300)
    created_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()
    expires_at: datetime = utc_field(index=True)
    revoked_at: datetime | None = utc_field(nullable=True)


class LoginEventBase(SQLModel):
    """One sign-in attempt: the login history and the source of rate limits."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(default="", max_length=45, index=True)
    user_agent: str = Field(default="", max_length=300)
    method: str = Field(max_length=20)
    success: bool
    reason: str = Field(default="", max_length=40)
    created_at: datetime = utc_field(index=True)


class MailBase(SQLModel):
    """One message in an outbox, written in the business transaction and delivered after it."""

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254, index=True)
    from_address: str = Field(max_length=254)
    from_name: str = Field(default="", max_length=120)
    subject: str = Field(max_length=200)
    text: str = Field(sa_type=sa.Text)
    html: str | None = Field(default=None, sa_type=sa.Text)
    kind: str = Field(default="", max_length=40, index=True)
    status: MailStatus = enum_field(MailStatus, MailStatus.OUTBOX)
    attempts: int = Field(default=0)
    error: str = Field(default="", max_length=300)
    created_at: datetime = utc_field(index=True)
    sent_at: datetime | None = utc_field(nullable=True)


class UserSession(SessionBase, TenantModel, table=True):
    __tablename__ = "auth_sessions"

    user_id: int = Field(foreign_key="users.id", index=True)


class EmailToken(TenantModel, table=True):
    """A single-use, expiring link token (email verification, password reset, email change)."""

    __tablename__ = "auth_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    purpose: TokenPurpose = enum_field(TokenPurpose, TokenPurpose.VERIFY_EMAIL)
    token_hash: str = Field(max_length=64, unique=True)
    new_email: str = Field(default="", max_length=254)
    # A sign-up's password (its hash), set on the account only when this link confirms it.
    password_hash: str = Field(default="", max_length=255)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)


class RecoveryCode(TenantModel, table=True):
    __tablename__ = "recovery_codes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)


class Passkey(TenantModel, table=True):
    """A WebAuthn credential registered on this tenant's host (the relying-party id)."""

    __tablename__ = "passkeys"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    credential_id: str = Field(max_length=1400, unique=True)
    public_key: str = Field(sa_type=sa.Text)
    sign_count: int = Field(default=0)
    name: str = Field(default="Passkey", max_length=60)
    rp_id: str = Field(max_length=253)
    created_at: datetime = utc_field()
    last_used_at: datetime | None = utc_field(nullable=True)


class LoginEvent(LoginEventBase, TenantModel, table=True):
    """Login history (shown to the user and admins) and the source of rate limits."""

    __tablename__ = "login_events"

    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)


class TenantMail(MailBase, TenantModel, table=True):
    __tablename__ = "mail_outbox"


class AdminSession(SessionBase, table=True):
    __tablename__ = "admin_sessions"

    admin_id: int = Field(foreign_key="platform_admins.id", index=True)


class AdminLoginEvent(LoginEventBase, table=True):
    __tablename__ = "admin_login_events"

    admin_id: int | None = Field(default=None, foreign_key="platform_admins.id", index=True)


class AuditEntry(SQLModel, table=True):
    """Who changed what (before/after as JSON), when and from where: admin and reseller actions."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int | None = Field(default=None, index=True)
    actor_email: str = Field(max_length=254, index=True)
    actor_role: str = Field(max_length=20)
    action: str = Field(max_length=80, index=True)
    target: str = Field(default="", max_length=200)
    before: str = Field(default="", sa_type=sa.Text)
    after: str = Field(default="", sa_type=sa.Text)
    ip: str = Field(default="", max_length=45)
    created_at: datetime = utc_field(index=True)


class PlatformMail(MailBase, table=True):
    """Mail sent on behalf of the platform itself (no tenant)."""

    __tablename__ = "platform_mail_outbox"


class SessionHandoff(SQLModel, table=True):
    """A single-use code, valid for a minute, that one HTTP response on the tenant's host trades
    for the session cookie (HttpOnly): sign-ins and impersonation. Only the code's hash is kept;
    the session token waits encrypted and is wiped when the code is used."""

    __tablename__ = "session_handoffs"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    tenant_id: int = Field(index=True)
    purpose: str = Field(max_length=20)  # login | impersonation
    email: str = Field(default="", max_length=254)
    session_token: str = Field(default="", sa_type=EncryptedString)
    next_path: str = Field(default="/", max_length=300)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field(index=True)
    used_at: datetime | None = utc_field(nullable=True)


class KnownDevice(SQLModel, table=True):
    """A browser that signed in to an account before (cookie token, stored hashed): it keeps
    signing in while others are throttled, until it fails too often itself. The cookie is
    host-only, so a token only ever comes back from the site that set it."""

    __tablename__ = "known_devices"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=254)
    failures: int = Field(default=0)
    created_at: datetime = utc_field()
    last_used_at: datetime = utc_field(index=True)


class RateLimitHit(SQLModel, table=True):
    """One counted action (a sign-up, a mailed link) under a key such as `mail-ip:203.0.113.7`."""

    __tablename__ = "rate_limit_hits"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, index=True)
    created_at: datetime = utc_field(index=True)
