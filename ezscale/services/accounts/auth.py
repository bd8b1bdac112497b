"""Customer and reseller accounts of one tenant: sign-up, verification, sign-in, reset, changes.

Every function works on the tenant's own session. Sign-in errors are generic ("Invalid email or
password") and cost the same with or without an account; so does signing up. One-time links
carry a random token whose hash alone is stored, expire, and work once; they always point at the
tenant's own verified domain (mail.tenant_base_url), never at a host a request named. Mail to an
address and sign-ups from an IP are rate-limited (rate_limits).
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.auth import EmailToken, LoginEvent, RecoveryCode, TokenPurpose
from ezscale.models.tenant import Role, User
from ezscale.models.types import existing, row_id
from ezscale.services.accounts import login_guard, passkeys, rate_limits, totp
from ezscale.services.accounts.passwords import hash_password, verify_password
from ezscale.services.accounts.sessions import revoke_user_sessions
from ezscale.services.core.mail import send_mail, tenant_base_url
from ezscale.services.fx.currencies import signup_currency
from ezscale.services.tenancy.tenants import TenantInfo

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 120  # users.name
MAX_EMAIL_LENGTH = 254
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
    """Where a request comes from (login history, rate limits); `device` is the browser's
    known-device cookie, if any."""

    ip: str = ""
    user_agent: str = ""
    device: str = ""


def normalise_email(email: str) -> str:
    """The address trimmed and lower-cased, or a DomainError if it is not a valid email address."""
    email = (email or "").strip().lower()
    if len(email) > MAX_EMAIL_LENGTH:
        raise DomainError(f"That email address is too long: at most {MAX_EMAIL_LENGTH} characters.")
    if not EMAIL_RE.match(email):
        raise DomainError("Please enter a valid email address.")
    return email


def check_password_rules(password: str) -> str:
    """The password if it meets the length rules, else a DomainError saying which."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(f"That password is too long: at most {MAX_PASSWORD_LENGTH} characters.")
    return password


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def check_sign_up(*, name: str, email: str, password: str, confirm: str | None = None) -> tuple[str, str]:
    """The sign-up form's (name, email), cleaned; a DomainError that names every problem at once
    (each missing field, a name of only spaces, over-long input) rather than cutting anything."""
    name, email, password = name or "", email or "", password or ""
    fields = [("your name", name), ("your email", email), ("a password", password)]
    if confirm is not None:
        fields.append(("the password again", confirm))
    missing = [label for label, value in fields if not value]
    problems = [f"Please enter {_listed(missing)}."] if missing else []
    if name and not name.strip():
        problems.append("Your name cannot be only spaces.")
    elif len(name.strip()) > MAX_NAME_LENGTH:
        problems.append(f"Your name is too long: at most {MAX_NAME_LENGTH} characters.")
    checks = [(email, normalise_email), (password, check_password_rules)]
    for value, check in checks:
        if value:
            try:
                check(value)
            except DomainError as error:
                problems.append(str(error))
    if password and confirm and password != confirm:
        problems.append("The two passwords do not match.")
    if problems:
        raise DomainError(" ".join(problems))
    return name.strip(), normalise_email(email)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_token(
    session: Session, *, user: User, purpose: TokenPurpose, new_email: str = "", password_hash: str = ""
) -> str:
    token, now = secrets.token_urlsafe(32), clock.now()
    session.add(
        EmailToken(
            user_id=row_id(user),
            purpose=purpose,
            token_hash=_hash(token),
            new_email=new_email,
            password_hash=password_hash,
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


def get_user(session: Session, *, user_id: int) -> User:
    """The account with this id (of the tenant database `session` is on)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


def _find(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def _void_tokens(session: Session, *, user_id: int, purpose: TokenPurpose) -> None:
    for row in session.exec(
        select(EmailToken).where(
            EmailToken.user_id == user_id, EmailToken.purpose == purpose, col(EmailToken.used_at).is_(None)
        )
    ):
        row.used_at = clock.now()
        session.add(row)


def _mail(tenant: TenantInfo, *, to: str, subject: str, text: str, kind: str) -> None:
    """Send, unless this address already got its share of mail this hour (then silently not,
    so the caller's answer stays the same)."""
    if rate_limits.may_mail(tenant_id=tenant.id, address=to):
        send_mail(tenant=tenant, to=to, subject=subject, text=text, kind=kind)


def sign_up(
    session: Session,
    *,
    tenant: TenantInfo,
    email: str,
    password: str,
    name: str,
    client: Client,
    confirm: str | None = None,
    currency: str = "",
) -> None:
    """Create a customer and mail a verification link. An existing address gets a notice instead;
    the answer and the work (one password hash, one mail) are the same either way, so neither
    tells whether the address has an account.

    Each sign-up's password travels (hashed) with its own link and becomes the account's password
    only when that link confirms the address, and signing up again voids the earlier links: the
    mailbox's owner confirms with their own sign-up's link, so a password someone else chose for
    the address never survives (even when both sign-ups race). With `confirm` (the form's repeated
    password), the two must match; see `check_sign_up` for what the form is checked for. `currency`
    is one of the tenant's enabled currencies (blank: its base currency)."""
    name, email = check_sign_up(name=name, email=email, password=password, confirm=confirm)
    chosen = signup_currency(session, currency)
    rate_limits.check_ip(action="signup", ip=client.ip)
    password_hash = hash_password(password)  # on every path, so that all of them take as long
    user = _find(session, email)
    if user is not None and user.email_verified_at is not None:
        base = tenant_base_url(tenant)
        _mail(
            tenant,
            to=email,
            subject=f"Your {tenant.name} account",
            text=(
                f"Someone tried to create a {tenant.name} account with this address, which already "
                f"has one. Sign in at {base}/login, or reset your password at {base}/forgot-password."
            ),
            kind="signup_existing",
        )
        return
    user = _pending_account(session, email=email, password_hash=password_hash, name=name, currency=chosen)
    if user is not None:
        send_verification(session, tenant=tenant, user=user, password_hash=password_hash)


def _pending_account(
    session: Session, *, email: str, password_hash: str, name: str, currency: str | None
) -> User | None:
    """The unconfirmed account with these credentials (new, or replacing the pending ones);
    None if the address turned out to be confirmed already (its password is never touched)."""
    for _ in range(2):  # a concurrent sign-up for the same address may insert it first
        user = _find(session, email)
        if user is not None and user.email_verified_at is not None:
            return None
        if user is None:
            user = User(email=email, role=Role.CUSTOMER, password_hash="", created_at=clock.now())
        else:
            _void_tokens(session, user_id=row_id(user), purpose=TokenPurpose.VERIFY_EMAIL)
        user.password_hash, user.name, user.currency = password_hash, name, currency
        session.add(user)
        try:
            session.commit()
            return user
        except IntegrityError:
            session.rollback()
    raise DomainError("Please try again.")


def send_verification(session: Session, *, tenant: TenantInfo, user: User, password_hash: str) -> None:
    """Mail the sign-up's verification link; the password is only set once the link is used."""
    token = _issue_token(session, user=user, purpose=TokenPurpose.VERIFY_EMAIL, password_hash=password_hash)
    _mail(
        tenant,
        to=user.email,
        subject=f"Confirm your email for {tenant.name}",
        text=(
            f"Hello {user.name or user.email},\n\nPlease confirm your email address:\n"
            f"{tenant_base_url(tenant)}/verify-email?token={token}\n\nThe link is valid for 2 days. "
            "If you did not sign up, ignore this mail."
        ),
        kind="verify_email",
    )


def verify_email(session: Session, *, token: str) -> User:
    """Use a verification link: mark the address verified and set the sign-up's password."""
    user, row = _use_token(session, token=token, purpose=TokenPurpose.VERIFY_EMAIL)
    if row.password_hash and user.email_verified_at is None:
        user.password_hash = row.password_hash  # the password of the sign-up this link belongs to
    user.email_verified_at = user.email_verified_at or clock.now()
    session.add(user)
    session.commit()
    return user


def authenticate(session: Session, *, email: str, password: str, client: Client) -> User:
    """Check email and password (after the throttling check). Re-hashes outdated (bcrypt) hashes.
    The caller then asks for the second factor when `user.totp_enabled_at` is set. An account
    whose address is not confirmed yet cannot sign in."""
    email = (email or "").strip().lower()
    known = login_guard.is_known_device(email=email, token=client.device)
    login_guard.check_not_locked(session, LoginEvent, email=email, ip=client.ip, known_device=known)
    user = _find(session, email)
    ok, new_hash = verify_password(password or "", user.password_hash if user else _DUMMY_HASH)
    if user is None or not ok or not user.is_active:
        if known:
            login_guard.device_failed(email=email, token=client.device)
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
    known = login_guard.is_known_device(email=user.email, token=client.device)
    login_guard.check_not_locked(session, LoginEvent, email=user.email, ip=client.ip, known_device=known)
    step = totp.accepted_step(user.totp_secret, code, at=clock.now(), last_step=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        session.add(user)
        session.commit()
        return "totp"
    if totp.looks_like_recovery_code(code) and use_recovery_code(session, user_id=row_id(user), code=code):
        return "recovery_code"
    if known:
        login_guard.device_failed(email=user.email, token=client.device)
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
    """Use up one unused recovery code; returns whether the code was valid."""
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
    """Record a successful customer login in the login history."""
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


def request_password_reset(session: Session, *, tenant: TenantInfo, email: str, client: Client) -> None:
    """Mail a reset link if the account exists; the caller's answer is the same either way."""
    rate_limits.check_ip(action="reset", ip=client.ip)
    try:
        email = normalise_email(email)
    except DomainError:
        return
    user = _find(session, email)
    if user is None or not user.is_active:
        return
    token = _issue_token(session, user=user, purpose=TokenPurpose.RESET_PASSWORD)
    _mail(
        tenant,
        to=user.email,
        subject=f"Reset your {tenant.name} password",
        text=(
            f"Hello {user.name or user.email},\n\nChoose a new password here:\n"
            f"{tenant_base_url(tenant)}/reset-password?token={token}\n\n"
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
    revoke_user_sessions(session, user_id=row_id(user))
    return user


def _check_current_password(user: User, password: str) -> None:
    if not verify_password(password or "", user.password_hash)[0]:
        raise DomainError("Your current password is not correct.")


def change_password(session: Session, *, user_id: int, current: str, new: str, keep_token: str) -> int:
    """Change the password; every other session ends. Returns how many sessions were ended."""
    user = existing(session, User, user_id)
    _check_current_password(user, current)
    check_password_rules(new)
    user.password_hash = hash_password(new)
    session.add(user)
    session.commit()
    return revoke_user_sessions(session, user_id=row_id(user), keep_token=keep_token)


def request_email_change(
    session: Session, *, tenant: TenantInfo, user_id: int, new_email: str, password: str
) -> None:
    """Mail a confirmation link to the new address; the change happens when it is followed."""
    user = existing(session, User, user_id)
    _check_current_password(user, password)
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise DomainError("That is already your email address.")
    if _find(session, new_email) is not None:
        raise DomainError("That email address cannot be used.")
    token = _issue_token(session, user=user, purpose=TokenPurpose.CHANGE_EMAIL, new_email=new_email)
    _mail(
        tenant,
        to=new_email,
        subject=f"Confirm your new email for {tenant.name}",
        text=(
            f"Confirm {new_email} as your new sign-in address:\n"
            f"{tenant_base_url(tenant)}/verify-email?token={token}"
        ),
        kind="change_email",
    )


def confirm_email_change(session: Session, *, token: str) -> User:
    """Use an email-change link: the account moves to the new address unless it is taken by now."""
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
    """Update the customer's own profile fields, each checked against its length limit."""
    user = existing(session, User, user_id)
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


def password_setup_link(session: Session, *, user: User, tenant: TenantInfo) -> str:
    """A single-use link to choose a password (used to invite accounts created by someone else)."""
    token = _issue_token(session, user=user, purpose=TokenPurpose.RESET_PASSWORD)
    return f"{tenant_base_url(tenant)}/reset-password?token={token}"
