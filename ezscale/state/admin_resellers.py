"""Platform admin → Resellers: create, suspend, reactivate, delete (the services audit each)."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.resellers.lifecycle import create_reseller, request_deletion
from ezscale.services.resellers.view import ResellerRow, reseller_rows
from ezscale.services.resellers.wholesale import set_billing_cycle_day
from ezscale.services.tenancy.tenants import reactivate_tenant, suspend_tenant
from ezscale.state.admin import AdminState
from ezscale.state.messages import attempt, parse_id

_FORM = ("name", "slug", "owner_email", "owner_name", "domain", "tier", "trial_days")


class AdminResellersState(AdminState):
    tenants: list[ResellerRow] = []
    form: dict[str, str] = {"tier": "basic", "trial_days": "14"}
    error: str = ""

    def _refresh(self) -> None:
        with central_session() as session:
            self.tenants = reseller_rows(session)

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed:
            self._refresh()
        return redirect

    @rx.event
    def set_form(self, field: str, value: str):
        if field in _FORM:
            self.form = {**self.form, field: value}

    def _run(self, change) -> bool:
        """Run `change(session, admin, ip)` (the service audits it), then re-read the list."""
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return False
        ip = self._ip()

        def run() -> None:
            with central_session() as session:
                change(session, admin, ip)

        _, self.error = attempt(run)
        if self.error:
            return False
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

        def change(session, admin, ip):
            create_reseller(
                session,
                name=form.get("name", ""),
                slug=form.get("slug", "").strip().lower(),
                owner_email=form.get("owner_email", ""),
                owner_name=form.get("owner_name", ""),
                domain=form.get("domain", "").strip() or None,
                tier=form.get("tier", "basic"),
                trial_days=trial_days,
                actor=admin,
                ip=ip,
            )

        if self._run(change):
            self.form = {"tier": "basic", "trial_days": "14"}
            return rx.toast.success("Reseller created; the owner was invited by email.")
        return None

    @rx.event
    def set_cycle_day(self, slug: str, day: str):
        if self._run(
            lambda s, admin, ip: set_billing_cycle_day(
                s, actor=admin, slug=slug, day=parse_id(day, "billing day"), ip=ip
            )
        ):
            return rx.toast.success(f"{slug} is now billed on day {day} of each month.")
        return None

    @rx.event
    def suspend(self, slug: str):
        self._run(lambda s, admin, ip: suspend_tenant(s, slug, actor=admin, ip=ip))

    @rx.event
    def reactivate(self, slug: str):
        self._run(lambda s, admin, ip: reactivate_tenant(s, slug, actor=admin, ip=ip))

    @rx.event
    def delete(self, slug: str):
        self._run(lambda s, admin, ip: request_deletion(s, slug=slug, actor=admin, ip=ip))
