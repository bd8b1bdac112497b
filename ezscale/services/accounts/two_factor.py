"""Enrolling and removing TOTP for a tenant user or a platform admin (same columns on both).

Enrolment stores the new secret (encrypted) with `totp_enabled_at` still empty; confirming it
with a valid code switches it on and, for tenant users, returns ten fresh recovery codes.
"""

from dataclasses import dataclass

from sqlmodel import Session, select

from ezscale import clock
from ezscale.errors import DomainError
from ezscale.models.auth import RecoveryCode
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import User
from ezscale.models.types import row_id
from ezscale.services.accounts import totp
from ezscale.services.accounts.passwords import verify_password

Account = User | PlatformAdmin


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A started TOTP enrolment: the secret, its otpauth URI and the QR code to scan."""

    secret: str
    uri: str
    qr: str


def begin(session: Session, *, account: Account, issuer: str) -> Enrolment:
    """Start TOTP enrolment with a new secret; two-factor is on only once `confirm` accepts a first code."""
    if account.totp_enabled_at is not None:
        raise DomainError("Two-factor authentication is already on.")
    account.totp_secret = totp.new_secret()
    account.totp_last_step = None
    session.add(account)
    session.commit()
    uri = totp.provisioning_uri(account.totp_secret, account=account.email, issuer=issuer)
    return Enrolment(account.totp_secret, uri, totp.qr_data_uri(uri))


def confirm(session: Session, *, account: Account, code: str) -> list[str]:
    """Switch TOTP on after a valid code; tenant users get their recovery codes (shown once)."""
    if account.totp_enabled_at is not None or not account.totp_secret:
        raise DomainError("Start the set-up again: scan the new QR code first.")
    step = totp.accepted_step(account.totp_secret, code, at=clock.now(), last_step=account.totp_last_step)
    if step is None:
        raise DomainError("That code is not valid. Check the time on your device and try again.")
    account.totp_last_step, account.totp_enabled_at = step, clock.now()
    session.add(account)
    session.commit()
    return regenerate_recovery_codes(session, user=account) if isinstance(account, User) else []


def regenerate_recovery_codes(session: Session, *, user: User) -> list[str]:
    """Replace all recovery codes with ten new ones; returns them in plain text (shown once)."""
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    codes = totp.new_recovery_codes()
    now = clock.now()
    for code in codes:
        session.add(
            RecoveryCode(user_id=row_id(user), code_hash=totp.hash_recovery_code(code), created_at=now)
        )
    session.commit()
    return codes


def remaining_recovery_codes(session: Session, *, user_id: int) -> int:
    """How many of the account's recovery codes are still unused."""
    rows = session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id)).all()
    return sum(1 for r in rows if r.used_at is None)


def disable(session: Session, *, account: Account, password: str) -> None:
    """Turn two-factor authentication off after the password is checked; admins must keep it."""
    if isinstance(account, PlatformAdmin):
        raise DomainError("Platform admins must keep a second factor.")
    if not verify_password(password or "", account.password_hash)[0]:
        raise DomainError("Your current password is not correct.")
    account.totp_secret, account.totp_enabled_at, account.totp_last_step = None, None, None
    session.add(account)
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == account.id)):
        session.delete(old)
    session.commit()


def enrol_with_secret(session: Session, *, account: Account, secret: str) -> None:
    """Switch TOTP on with a known secret (the demo admin's printed demo secret)."""
    account.totp_secret, account.totp_enabled_at, account.totp_last_step = secret, clock.now(), None
    session.add(account)
    session.commit()
