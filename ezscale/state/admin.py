"""Admin area state: the shared guard of every platform admin page."""

from ezscale.state.auth import AuthState


class AdminState(AuthState):
    """Base of every admin state; the role-guard test finds admin states by this base."""

    def _admin_guard(self) -> tuple[object, bool]:
        """For on_load: the redirect to return (if any), and whether the page may load its data."""
        redirect = self._require_admin()
        return redirect, redirect is None and not self.denied
