"""Platform admin → Resellers: create, suspend, reactivate, delete (every change audited)."""

import reflex as rx

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.services.core.audit import record_audit
from ezscale.services.resellers.lifecycle import create_reseller, request_deletion
from ezscale.services.tenancy.tenants import list_tenants, reactivate_tenant, suspend_tenant
from ezscale.state.auth import AuthState

_FORM = ("name", "slug", "owner_email", "owner_name", "domain", "tier", "trial_days")


class AdminResellersState(AuthState):
    tenants: list[dict[str, str]] = []
    form: dict[str, str] = {"tier": "basic", "trial_days": "14"}
    error: str = ""

    def _refresh(self) -> None:
        with central_session() as session:
            rows = list_tenants(session)
        self.tenants = [
            {
                "slug": t.slug,
                "name": t.name,
                "status": t.status.value,
                "house": "yes" if t.is_house else "",
                "domains": ", ".join(domains),
                "trial_ends": f"{t.trial_ends_at:%d %b %Y}" if t.trial_ends_at else "",
            }
            for t, domains in rows
        ]

    @rx.event
    def load(self):
        redirect = self.require_admin()
        if redirect is None and not self.denied:
            self._refresh()
        return redirect

    @rx.event
    def set_form(self, field: str, value: str):
        if field in _FORM:
            self.form = {**self.form, field: value}

    def _run(self, action: str, target: str, change) -> bool:
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return False
        try:
            with central_session() as session:
                detail = change(session)
        except DomainError as error:
            self.error = str(error)
            return False
        self.error = ""
        record_audit(
            actor=admin, action=action, target=target, after=detail, ip=self.router.session.client_ip
        )
        self._refresh()
        return True

    @rx.event
    def create(self):
        form = dict(self.form)
        try:
            trial_days = int(form.get("trial_days") or 0)
        except ValueError:
            self.error = "Trial days must be a whole number."
            return None

        def change(session):
            tenant = create_reseller(
                session,
                name=form.get("name", ""),
                slug=form.get("slug", "").strip().lower(),
                owner_email=form.get("owner_email", ""),
                owner_name=form.get("owner_name", ""),
                domain=form.get("domain", "").strip() or None,
                tier=form.get("tier", "basic"),
                trial_days=trial_days,
            )
            return {"slug": tenant.slug, "tier": form.get("tier"), "owner": tenant.owner_email}

        if self._run("reseller.create", f"tenant:{form.get('slug', '')}", change):
            self.form = {"tier": "basic", "trial_days": "14"}
            return rx.toast.success("Reseller created; the owner was invited by email.")
        return None

    @rx.event
    def suspend(self, slug: str):
        self._run("reseller.suspend", f"tenant:{slug}", lambda s: {"status": suspend_tenant(s, slug).status})

    @rx.event
    def reactivate(self, slug: str):
        self._run(
            "reseller.reactivate", f"tenant:{slug}", lambda s: {"status": reactivate_tenant(s, slug).status}
        )

    @rx.event
    def delete(self, slug: str):
        self._run(
            "reseller.delete", f"tenant:{slug}", lambda s: {"export": str(request_deletion(s, slug=slug))}
        )
