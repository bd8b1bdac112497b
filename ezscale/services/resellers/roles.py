"""Who may change what in a reseller's business. The owner manages staff, domains, branding and
what is paid to EZSCALE, and may do everything to customers. Staff accounts have a role:
billing (customers' money: credit, charges, credit notes, refunds) or support (read and notes).
Platform admins may do everything to any tenant's customers."""

from dataclasses import dataclass
from enum import StrEnum

from ezscale.errors import DomainError, NotFound
from ezscale.services.accounts.sessions import AuthRole, AuthUser


class Permission(StrEnum):
    """What an action on a customer needs."""

    VIEW = "view"
    NOTE = "note"
    MONEY = "money"
    SERVICES = "services"
    ACCOUNT = "account"  # reset 2FA, resend verification, log in as the customer


ROLE_PERMISSIONS: dict[AuthRole, frozenset[Permission]] = {
    AuthRole.PLATFORM_ADMIN: frozenset(Permission),
    AuthRole.RESELLER_OWNER: frozenset(Permission),
    AuthRole.RESELLER_BILLING: frozenset({Permission.VIEW, Permission.NOTE, Permission.MONEY}),
    AuthRole.RESELLER_STAFF: frozenset({Permission.VIEW, Permission.NOTE}),
}

# How the staff page names each role, and what it says the role may do.
ROLE_LABELS = {
    AuthRole.RESELLER_OWNER: "owner",
    AuthRole.RESELLER_BILLING: "billing",
    AuthRole.RESELLER_STAFF: "support",
}
ROLE_SUMMARY = {
    AuthRole.RESELLER_OWNER: "everything: customers, staff, domains, branding, plans, wholesale billing",
    AuthRole.RESELLER_BILLING: "customers: view, notes, credit, charges, credit notes and refunds",
    AuthRole.RESELLER_STAFF: "customers: view and add notes",
}


@dataclass(frozen=True, slots=True)
class RoleRow:
    """A staff role as the staff page explains it."""

    role: str
    label: str
    can: str


def role_rows() -> list[RoleRow]:
    """Every reseller staff role with what it may do, owner first."""
    return [RoleRow(role.value, ROLE_LABELS[role], text) for role, text in ROLE_SUMMARY.items()]


def is_owner(actor: AuthUser, tenant_id: int) -> bool:
    """Whether `actor` is the owner of this very tenant."""
    return actor.role == AuthRole.RESELLER_OWNER and actor.tenant_id == tenant_id


def require_owner(actor: AuthUser, tenant_id: int, action: str) -> None:
    """Refuse unless `actor` is the owner of this very tenant."""
    if not is_owner(actor, tenant_id):
        raise DomainError(f"Only the reseller's owner can {action}.")


def permissions(actor: AuthUser, tenant_id: int) -> frozenset[Permission]:
    """What `actor` may do to the customers of tenant `tenant_id` (nothing in another tenant)."""
    if actor.role != AuthRole.PLATFORM_ADMIN and actor.tenant_id != tenant_id:
        return frozenset()
    return ROLE_PERMISSIONS.get(actor.role, frozenset())  # type: ignore[call-overload]  # str keys match


def may_see_payments(actor: AuthUser, tenant_id: int) -> bool:
    """Whether `actor` may see the payments report of tenant `tenant_id` (owner, billing staff, admins)."""
    return Permission.MONEY in permissions(actor, tenant_id)


def require_permission(actor: AuthUser, tenant_id: int, permission: Permission) -> None:
    """Refuse unless `actor` may do `permission` to this tenant's customers: another tenant's staff
    are told the customer does not exist, as if they had guessed an id."""
    allowed = permissions(actor, tenant_id)
    if not allowed:
        raise NotFound("No such customer.")
    if permission not in allowed:
        raise DomainError("Your staff role does not allow this; ask the reseller's owner.")
