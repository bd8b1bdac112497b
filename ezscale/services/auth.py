"""Customer and reseller accounts of one tenant: sign-up, verification, sign-in, reset, changes.

Every function works on the tenant's own session. Sign-in errors are generic ("Invalid email or
password") and cost the same with or without an account; one-time links carry a random token
whose hash alone is stored, expire, and work once.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.auth import EmailToken, LoginEvent, RecoveryCode, TokenPurpose
from ezscale.models.tenant import Role, User
from ezscale.services import login_guard, passkeys, totp
from ezscale.services.errors import DomainError
from ezscale.services.mail import send_mail
from ezscale.services.passwords import hash_password, verify_password
from ezscale.services.sessions import revoke_user_sessions
from ezscale.services.tenancy import TenantInfo

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_TTL = {
    TokenPurpose.VERIFY_EMAIL: timedelta(days=2),
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
    TokenPurpose.CHANGE_EMAIL: timedelta(days=1),
}
INVALID_LOGIN = "Invalid email or password."
INVALID_LINK = "This link is invalid or has expired. Please request a new one."
# Verified against when no account matches, so a missing account costs as much as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(16))


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request comes from (login history, rate limits)."""

    ip: str = ""
    user_agent: str = ""


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise DomainError("Please enter a valid email address.")
    return email


def check_password_rules(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError("That password is too long.")
    return password


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_token(session: Session, *, user: User, purpose: TokenPurpose, new_email: str = "") -> str:
    token, now = secrets.token_urlsafe(32), clock.now()
    session.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(token),
            new_email=new_email,
            created_at=now,
            expires_at=now + TOKEN_TTL[purpose],
        )
    )
    session.commit()
    return token


def _use_token(session: Session, *, token: str, purpose: TokenPurpose) -> tuple[User, EmailToken]:
    row = session.exec(
        select(EmailToken).where(EmailToken.token_hash == _hash(token or ""), EmailToken.purpose == purpose)
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        raise DomainError(INVALID_LINK)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise DomainError(INVALID_LINK)
    row.used_at = clock.now()
    session.add(row)
    return user, row


def _find(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def sign_up(
    session: Session, *, tenant: TenantInfo, email: str, password: str, name: str, base_url: str
) -> None:
    """Create a customer and mail a verification link. An existing address gets a notice (or,
    if still unconfirmed, a new link) and the caller's answer is the same either way."""
    email = normalise_email(email)
    check_password_rules(password)
    name = (name or "").strip()[:120]
    existing = _find(session, email)
    if existing is not None and existing.email_verified_at is None:
        send_verification(session, tenant=tenant, user=existing, base_url=base_url)  # a fresh link
        return
    if existing is not None:
        send_mail(
            tenant=tenant,
            to=email,
            subject=f"Your {tenant.name} account",
            text=(
                f"Someone tried to create a {tenant.name} account with this address, which already "
                f"has one. Sign in at {base_url}/login, or reset your password at "
                f"{base_url}/forgot-password."
            ),
            kind="signup_existing",
        )
        return
    now = clock.now()
    user = User(
        email=email, password_hash=hash_password(password), name=name, role=Role.CUSTOMER, created_at=now
    )
    session.add(user)
    session.commit()
    send_verification(session, tenant=tenant, user=user, base_url=base_url)


def send_verification(session: Session, *, tenant: TenantInfo, user: User, base_url: str) -> None:
    token = _issue_token(session, user=user, purpose=TokenPurpose.VERIFY_EMAIL)
    send_mail(
        tenant=tenant,
        to=user.email,
        subject=f"Confirm your email for {tenant.name}",
        text=(
            f"Hello {user.name or user.email},\n\nPlease confirm your email address:\n"
            f"{base_url}/verify-email?token={token}\n\nThe link is valid for 2 days."
        ),
        kind="verify_email",
    )


def verify_email(session: Session, *, token: str) -> User:
    user, _ = _use_token(session, token=token, purpose=TokenPurpose.VERIFY_EMAIL)
    user.email_verified_at = user.email_verified_at or clock.now()
    session.add(user)
    session.commit()
    return user


def authenticate(session: Session, *, email: str, password: str, client: Client) -> User:
    """Check email and password (after the lockout check). Re-hashes outdated (bcrypt) hashes.
    The caller then asks for the second factor when `user.totp_enabled_at` is set."""
    email = (email or "").strip().lower()
    login_guard.check_not_locked(session, LoginEvent, email=email, ip=client.ip)
    user = _find(session, email)
    ok, new_hash = verify_password(password or "", user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or not user.is_active:
        login_guard.record_login(
            session,
            LoginEvent,
            email=email,
            success=False,
            method="password",
            account_id=user.id if user else None,
            ip=client.ip,
            user_agent=client.user_agent,
            reason="bad_password" if user else "unknown_account",
        )
        raise DomainError(INVALID_LOGIN)
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
        session.commit()
    if user.email_verified_at is None:
        raise DomainError("Please confirm your email address first: we sent you a link when you signed up.")
    return user


def verify_second_factor(session: Session, *, user_id: int, code: str, client: Client) -> str:
    """Accept a TOTP code (once) or an unused recovery code; returns the method used."""
    user = session.get(User, user_id)
    if user is None or user.totp_enabled_at is None or not user.totp_secret:
        raise DomainError("Two-factor authentication is not set up for this account.")
    login_guard.check_not_locked(session, LoginEvent, email=user.email, ip=client.ip)
    step = totp.accepted_step(user.totp_secret, code, at=clock.now(), last_step=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        session.add(user)
        session.commit()
        return "totp"
    if totp.looks_like_recovery_code(code) and use_recovery_code(session, user_id=user.id, code=code):
        return "recovery_code"
    login_guard.record_login(
        session,
        LoginEvent,
        email=user.email,
        success=False,
        method="totp",
        account_id=user.id,
        ip=client.ip,
        user_agent=client.user_agent,
        reason="bad_code",
    )
    raise DomainError("That code is not valid. Check your authenticator app and try again.")


def use_recovery_code(session: Session, *, user_id: int, code: str) -> bool:
    digest = totp.hash_recovery_code(code)
    rows = session.exec(
        select(RecoveryCode).where(RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None))
    ).all()
    match = next((r for r in rows if hmac.compare_digest(r.code_hash, digest)), None)
    if match is None:
        return False
    match.used_at = clock.now()
    session.add(match)
    session.commit()
    return True


def record_success(session: Session, *, user: User, method: str, client: Client) -> None:
    login_guard.record_login(
        session,
        LoginEvent,
        email=user.email,
        success=True,
        method=method,
        account_id=user.id,
        ip=client.ip,
        user_agent=client.user_agent,
    )


def passkey_sign_in(
    session: Session, *, rp_id: str, origin: str, credential_json: str, challenge: str, client: Client
) -> User:
    """Sign in with a passkey; failures count towards the IP's limit and show in the history."""
    login_guard.check_not_locked(session, LoginEvent, email=None, ip=client.ip)
    try:
        user = passkeys.finish_authentication(
            session, rp_id=rp_id, origin=origin, credential_json=credential_json, challenge=challenge
        )
    except DomainError:
        login_guard.record_login(
            session,
            LoginEvent,
            email="",
            success=False,
            method="passkey",
            ip=client.ip,
            user_agent=client.user_agent,
            reason="bad_passkey",
        )
        raise
    record_success(session, user=user, method="passkey", client=client)
    return user


def request_password_reset(session: Session, *, tenant: TenantInfo, email: str, base_url: str) -> None:
    """Mail a reset link if the account exists; the caller's answer is the same either way."""
    try:
        email = normalise_email(email)
    except DomainError:
        return
    user = _find(session, email)
    if user is None or not user.is_active:
        return
    token = _issue_token(session, user=user, purpose=TokenPurpose.RESET_PASSWORD)
    send_mail(
        tenant=tenant,
        to=user.email,
        subject=f"Reset your {tenant.name} password",
        text=(
            f"Hello {user.name or user.email},\n\nChoose a new password here:\n"
            f"{base_url}/reset-password?token={token}\n\n"
            "The link works once and expires in one hour. If you did not ask for it, ignore this mail."
        ),
        kind="reset_password",
    )


def reset_password(session: Session, *, token: str, new_password: str) -> User:
    """Set a new password from a reset link; every session of the account ends."""
    check_password_rules(new_password)
    user, used = _use_token(session, token=token, purpose=TokenPurpose.RESET_PASSWORD)
    for other in session.exec(
        select(EmailToken).where(
            EmailToken.user_id == user.id,
            EmailToken.purpose == TokenPurpose.RESET_PASSWORD,
            col(EmailToken.used_at).is_(None),
        )
    ):
        other.used_at = used.used_at
        session.add(other)
    user.password_hash = hash_password(new_password)
    user.email_verified_at = user.email_verified_at or clock.now()  # the link proved the address
    session.add(user)
    session.commit()
    revoke_user_sessions(session, user_id=user.id)
    return user


def _check_current_password(user: User, password: str) -> None:
    if not verify_password(password or "", user.password_hash)[0]:
        raise DomainError("Your current password is not correct.")


def change_password(session: Session, *, user_id: int, current: str, new: str, keep_token: str) -> int:
    """Change the password; every other session ends. Returns how many sessions were ended."""
    user = session.get(User, user_id)
    _check_current_password(user, current)
    check_password_rules(new)
    user.password_hash = hash_password(new)
    session.add(user)
    session.commit()
    return revoke_user_sessions(session, user_id=user.id, keep_token=keep_token)


def request_email_change(
    session: Session, *, tenant: TenantInfo, user_id: int, new_email: str, password: str, base_url: str
) -> None:
    """Mail a confirmation link to the new address; the change happens when it is followed."""
    user = session.get(User, user_id)
    _check_current_password(user, password)
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise DomainError("That is already your email address.")
    if _find(session, new_email) is not None:
        raise DomainError("That email address cannot be used.")
    token = _issue_token(session, user=user, purpose=TokenPurpose.CHANGE_EMAIL, new_email=new_email)
    send_mail(
        tenant=tenant,
        to=new_email,
        subject=f"Confirm your new email for {tenant.name}",
        text=f"Confirm {new_email} as your new sign-in address:\n{base_url}/verify-email?token={token}",
        kind="change_email",
    )


def confirm_email_change(session: Session, *, token: str) -> User:
    user, row = _use_token(session, token=token, purpose=TokenPurpose.CHANGE_EMAIL)
    if _find(session, row.new_email) is not None:
        raise DomainError("That email address cannot be used.")
    user.email, user.email_verified_at = row.new_email, clock.now()
    session.add(user)
    session.commit()
    return user


def follow_link(session: Session, *, token: str) -> tuple[User, str]:
    """Verify-email links carry either a verification or an email-change token."""
    purpose = session.exec(
        select(EmailToken.purpose).where(EmailToken.token_hash == _hash(token or ""))
    ).first()
    if purpose is TokenPurpose.CHANGE_EMAIL:
        return confirm_email_change(session, token=token), "Your new email address is confirmed."
    return verify_email(session, token=token), "Your email address is confirmed. You can sign in now."


def update_profile(session: Session, *, user_id: int, **fields: str) -> User:
    user = session.get(User, user_id)
    limits = {"name": 120, "company": 120, "address": 300, "country": 2, "tax_id": 40}
    for key, value in fields.items():
        if key not in limits:
            raise DomainError(f"Unknown profile field {key}.")
        value = (value or "").strip()
        if len(value) > limits[key]:
            raise DomainError(f"{key.replace('_', ' ').capitalize()} is too long.")
        if key == "country" and value and not (len(value) == 2 and value.isalpha()):
            raise DomainError("Country must be a two-letter code, e.g. DE or US.")
        setattr(user, key, value.upper() if key == "country" else value)
    session.add(user)
    session.commit()
    return user


def password_setup_link(session: Session, *, user: User, base_url: str) -> str:
    """A single-use link to choose a password (used to invite accounts created by someone else)."""
    token = _issue_token(session, user=user, purpose=TokenPurpose.RESET_PASSWORD)
    return f"{base_url}/reset-password?token={token}"
