"""Who may change what in a reseller's business: its owner manages staff, domains, branding and
what is paid to EZSCALE; staff accounts serve customers and may look, not change these."""

from ezscale.errors import DomainError
from ezscale.services.accounts.sessions import AuthRole, AuthUser


def require_owner(actor: AuthUser, tenant_id: int, action: str) -> None:
    """Refuse unless `actor` is the owner of this very tenant."""
    if actor.role != AuthRole.RESELLER_OWNER or actor.tenant_id != tenant_id:
        raise DomainError(f"Only the reseller's owner can {action}.")
