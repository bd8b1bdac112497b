"""Platform admin sign-in (central database): password, then a TOTP code, always."""

from sqlmodel import Session, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.auth import AdminLoginEvent
from ezscale.models.central import PlatformAdmin
from ezscale.services.accounts import login_guard, totp
from ezscale.services.accounts.auth import _DUMMY_HASH, INVALID_LOGIN, Client
from ezscale.services.accounts.passwords import verify_password


def _fail(
    session: Session, *, email: str, admin_id: int | None, method: str, reason: str, client: Client
) -> None:
    login_guard.record_login(
        session,
        AdminLoginEvent,
        email=email,
        success=False,
        method=method,
        account_id=admin_id,
        ip=client.ip,
        user_agent=client.user_agent,
        reason=reason,
    )


def get_admin(session: Session, *, admin_id: int) -> PlatformAdmin:
    """The platform admin with this id (central database)."""
    admin = session.get(PlatformAdmin, admin_id)
    if admin is None:
        raise NotFound("No such admin.")
    return admin


def authenticate_admin(session: Session, *, email: str, password: str, client: Client) -> PlatformAdmin:
    """First step: the password. The admin area still needs the TOTP step (or its enrolment)."""
    email = (email or "").strip().lower()
    known = login_guard.is_known_device(email=email, token=client.device)
    login_guard.check_not_locked(session, AdminLoginEvent, email=email, ip=client.ip, known_device=known)
    admin = session.exec(select(PlatformAdmin).where(PlatformAdmin.email == email)).first()
    ok, new_hash = verify_password(password or "", admin.password_hash if admin else _DUMMY_HASH)
    if admin is None or not ok or not admin.is_active:
        if known:
            login_guard.device_failed(email=email, token=client.device)
        _fail(
            session,
            email=email,
            admin_id=admin.id if admin else None,
            method="password",
            reason="bad_password" if admin else "unknown_account",
            client=client,
        )
        raise DomainError(INVALID_LOGIN)
    if new_hash:
        admin.password_hash = new_hash
        session.add(admin)
        session.commit()
    return admin


def verify_admin_code(session: Session, *, admin_id: int, code: str, client: Client) -> PlatformAdmin:
    """Second sign-in step: check the TOTP code (with lockout and device memory) and record the login."""
    admin = session.get(PlatformAdmin, admin_id)
    if admin is None or admin.totp_enabled_at is None or not admin.totp_secret:
        raise DomainError("Set up your authenticator app first.")
    known = login_guard.is_known_device(email=admin.email, token=client.device)
    login_guard.check_not_locked(
        session, AdminLoginEvent, email=admin.email, ip=client.ip, known_device=known
    )
    step = totp.accepted_step(admin.totp_secret, code, at=clock.now(), last_step=admin.totp_last_step)
    if step is None:
        if known:
            login_guard.device_failed(email=admin.email, token=client.device)
        _fail(session, email=admin.email, admin_id=admin.id, method="totp", reason="bad_code", client=client)
        raise DomainError("That code is not valid. Check your authenticator app and try again.")
    admin.totp_last_step = step
    session.add(admin)
    session.commit()
    login_guard.record_login(
        session,
        AdminLoginEvent,
        email=admin.email,
        success=True,
        method="password+totp",
        account_id=admin.id,
        ip=client.ip,
        user_agent=client.user_agent,
    )
    return admin


# The demo admin's authenticator secret (printed by `ezscale demo`; `ezscale demo-code` shows the
# current code). Demo data only: a real admin enrols their own app on first sign-in.
DEMO_ADMIN_TOTP_SECRET = "EZSCALEDEMOADMINTOTPSECRET234567"


def ensure_demo_admin_totp(session: Session, *, email: str) -> None:
    """Give the demo admin the fixed demo TOTP secret, so the demo can show the code."""
    from ezscale.services.accounts.two_factor import enrol_with_secret

    admin = session.exec(select(PlatformAdmin).where(PlatformAdmin.email == email)).first()
    if admin is not None and admin.totp_enabled_at is None:
        enrol_with_secret(session, account=admin, secret=DEMO_ADMIN_TOTP_SECRET)


def current_demo_code() -> str:
    """The demo admin's current TOTP code (demo mode only shows it)."""
    return totp.code_at(DEMO_ADMIN_TOTP_SECRET, clock.now())
