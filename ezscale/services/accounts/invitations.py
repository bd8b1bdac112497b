"""Accounts created by someone else (a reseller's owner, its staff): the person is mailed a
single-use link to choose their own password; no password ever travels by mail."""

import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.tenant import Role, User
from ezscale.models.types import row_id
from ezscale.services.accounts.auth import normalise_email, password_setup_link
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import AuthRole, AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.core.mail import send_mail
from ezscale.services.resellers.roles import ROLE_LABELS, require_owner
from ezscale.services.tenancy.tenants import TenantInfo

STAFF_ROLES = (Role.RESELLER_OWNER, Role.RESELLER_BILLING, Role.RESELLER_STAFF)
# The roles an owner may give an invited staff account.
INVITABLE_ROLES = (Role.RESELLER_STAFF, Role.RESELLER_BILLING)


def invite_account(
    db: Session,
    *,
    email: str,
    name: str,
    role: Role,
    tenant: TenantInfo,
    subject: str,
    intro: str,
    sender: TenantInfo | None,
) -> User:
    """Create a confirmed account in `tenant`'s database and mail (from `sender`, None: the
    platform) a link to the tenant's own verified domain to choose a password."""
    email = normalise_email(email)
    if db.exec(select(User.id).where(User.email == email)).first() is not None:
        raise DomainError(f"{email} already has an account here.")
    now = clock.now()
    user = User(
        email=email,
        name=(name or "").strip()[:120],
        role=role,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        created_at=now,
        email_verified_at=now,
    )
    db.add(user)
    db.commit()
    link = password_setup_link(db, user=user, tenant=tenant)
    send_mail(
        tenant=sender,
        to=email,
        subject=subject,
        text=(
            f"Hello {user.name or email},\n\n{intro}\nChoose your password to sign in:\n{link}\n\n"
            "The link works once and expires in one hour; after that use “Forgot password”."
        ),
        kind="invitation",
    )
    return user


def list_staff(db: Session) -> list[User]:
    """The tenant's staff accounts, oldest first."""
    return list(db.exec(select(User).where(col(User.role).in_(STAFF_ROLES)).order_by(col(User.id))).all())


@dataclass(frozen=True)
class StaffRow:
    """One staff account as the reseller's Staff page shows it."""

    id: int
    email: str
    name: str
    role: str
    role_label: str
    active: bool


def staff_rows(db: Session) -> list[StaffRow]:
    """The Staff page's rows, oldest account first."""
    return [
        StaffRow(row_id(u), u.email, u.name, u.role.value, ROLE_LABELS[AuthRole(u.role.value)], u.is_active)
        for u in list_staff(db)
    ]


def invite_staff(
    db: Session,
    *,
    actor: AuthUser,
    tenant: TenantInfo,
    email: str,
    name: str,
    role: str = Role.RESELLER_STAFF.value,
    ip: str = "",
) -> User:
    """The owner invites a staff account (support or billing) to the reseller area (audited in the
    central database once the tenant database committed)."""
    require_owner(actor, tenant.id, "invite staff")
    if role not in {r.value for r in INVITABLE_ROLES}:
        raise DomainError("Choose the support or the billing role.")
    invited = invite_account(
        db,
        email=email,
        name=name,
        role=Role(role),
        tenant=tenant,
        subject=f"You are invited to manage {tenant.name}",
        intro=f"{actor.name or actor.email} invited you to the {tenant.name} reseller area.",
        sender=tenant,
    )
    record_audit(
        actor=actor, action="staff.invite", target=f"user:{invited.email}", after={"role": role}, ip=ip
    )
    return invited


def set_staff_active(
    db: Session, *, actor: AuthUser, tenant: TenantInfo, user_id: int, active: bool, ip: str = ""
) -> User:
    """Disable or re-enable a staff account (owner only)."""
    require_owner(actor, tenant.id, "disable or enable staff")
    user = db.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        raise NotFound("No such staff account.")
    if user.role is Role.RESELLER_OWNER:
        raise DomainError("The owner's account cannot be disabled here.")
    user.is_active = active
    db.add(user)
    db.commit()
    action = "staff.enable" if active else "staff.disable"
    record_audit(actor=actor, action=action, target=f"user:{user.email}", after={}, ip=ip)
    return user
