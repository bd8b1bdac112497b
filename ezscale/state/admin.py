"""Admin area state: the shared guard of every platform admin page."""

from typing import TYPE_CHECKING

from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.tenancy.tenants import TenantInfo, tenant_info
from ezscale.state.auth import AuthState


class AdminState(AuthState):
    """Base of every admin state; the role-guard test finds admin states by this base."""

    if TYPE_CHECKING:
        error: str  # each admin state has its own (a var here would be one for them all)

    def _admin_guard(self) -> tuple[object, bool]:
        """For on_load: the redirect to return (if any), and whether the page may load its data."""
        redirect = self._require_admin()
        return redirect, redirect is None and not self.denied

    def _house(self) -> tuple[AuthUser, TenantInfo] | None:
        """The signed-in admin and the house tenant it acts on; None (and "Not allowed.") otherwise."""
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return None
        return admin, tenant_info(admin.tenant_id)
