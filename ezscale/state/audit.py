"""Admin views of the audit trail (filterable) and of sign-in history; resellers see their own."""

from datetime import UTC, datetime, timedelta

import reflex as rx

from ezscale.db import central_session
from ezscale.models.auth import AdminLoginEvent, LoginEvent
from ezscale.services.accounts import login_guard
from ezscale.services.core.audit import AuditFilter, list_audit
from ezscale.services.core.audit_view import AuditRow, LoginRow, audit_rows, find_tenant_id, login_rows
from ezscale.services.tenancy.tenants import TenantInfo, find_tenant, tenant_session
from ezscale.state.admin import AdminState


def _rows(entries) -> list[AuditRow]:
    with central_session() as central:
        return audit_rows(central, entries)


def _day(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=UTC)
    except ValueError:
        return None


class AuditState(AdminState):
    entries: list[AuditRow] = []
    logins: list[LoginRow] = []
    filters: dict[str, str] = {"tenant": "", "actor": "", "action": "", "since": "", "until": ""}

    def _filter(self) -> AuditFilter:
        f = self.filters
        until = _day(f.get("until", ""))
        with central_session() as central:
            tenant_id = find_tenant_id(central, f.get("tenant", ""))
        return AuditFilter(
            tenant_id=tenant_id,
            actor=f.get("actor", ""),
            action=f.get("action", ""),
            since=_day(f.get("since", "")),
            until=until + timedelta(days=1) if until else None,
        )

    @rx.event
    def load_admin_audit(self):
        redirect, allowed = self._admin_guard()
        if not allowed:
            self.entries = []
            return redirect
        self.entries = _rows(list_audit(self._filter()))
        return None

    @rx.event
    def apply_filters(self, form: dict):
        if self._admin() is None:
            self.entries = []
            return
        self.filters = {k: str(form.get(k, "")) for k in ("tenant", "actor", "action", "since", "until")}
        self.entries = _rows(list_audit(self._filter()))

    @rx.event
    def load_admin_logins(self):
        """Admins' own sign-ins (central) and every sign-in on the tenant of this host."""
        redirect, allowed = self._admin_guard()
        if not allowed:
            self.logins = []
            return redirect
        self._show_logins(self._tenant())
        return None

    def _show_logins(self, tenant) -> None:
        with central_session() as session:
            admin_events = login_guard.history(session, AdminLoginEvent, limit=100)
        with tenant_session(tenant) as session:
            tenant_events = login_guard.history(session, LoginEvent, limit=100)
        self.logins = login_rows((admin_events, ""), (tenant_events, f"@{tenant.slug}: "))

    @rx.event
    def show_tenant_logins(self, form: dict):
        """Admins pick the tenant (by slug) whose customers' sign-ins are listed."""
        if self._admin() is None:
            self.logins = []
            return
        with central_session() as session:
            found = find_tenant(session, slug=str(form.get("slug", "")).strip())
        self._show_logins(TenantInfo.of(found) if found else self._tenant())

    @rx.event
    def load_reseller_audit(self):
        redirect = self._require(frozenset({"reseller_owner", "reseller_staff"}), "/login")
        if redirect or self.denied:
            self.entries, self.logins = [], []
            return redirect
        user = self._reseller()
        self.entries = _rows(list_audit(AuditFilter(tenant_id=user.tenant_id)))
        with tenant_session(self._tenant()) as session:
            self.logins = login_rows((login_guard.history(session, LoginEvent, limit=100), ""))
        return None
