"""Reseller area state: the reseller's own tenant only (host and session must agree)."""

from dataclasses import replace
from typing import Any

import reflex as rx

from ezscale.db import central_session
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.catalogue.offers import add_offer
from ezscale.services.catalogue.plans import PlanForm, update_plan
from ezscale.services.catalogue.view import (
    OfferRow,
    ResellerPlanRow,
    offer_rows,
    reseller_plan_rows,
)
from ezscale.services.tenancy.domains import (
    DomainRow,
    add_domain,
    domain_rows,
    remove_domain,
    set_primary,
    verify_domain,
)
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.admin_templates import TemplateEditor
from ezscale.state.auth import AuthState
from ezscale.state.currency_prices import CurrencyPricesMixin
from ezscale.state.messages import attempt, parse_id

_PLAN_FIELDS = ("name", "description", "price", "setup_fee", "trial_days", "sort_order")


class ResellerState(AuthState):
    """Shared guard of reseller pages."""

    error: str = ""

    def _owner(self) -> tuple[AuthUser, TenantInfo] | None:
        user = self._reseller()
        tenant = self._tenant()
        if user is None or tenant is None or user.tenant_id != tenant.id:
            self.error = "Not allowed."
            return None
        self.error = ""
        return user, tenant

    def _guard(self) -> tuple[object, TenantInfo | None]:
        """For on_load: the redirect to return (if any) and the tenant to load, if allowed."""
        redirect = self._require_reseller()
        if redirect is not None or self.denied:
            return redirect, None
        owner = self._owner()
        return None, owner[1] if owner else None


class ResellerDomainsState(ResellerState):
    domains: list[DomainRow] = []
    new_domain: str = ""

    def _refresh(self, tenant: TenantInfo) -> None:
        with central_session() as session:
            self.domains = domain_rows(session, tenant_id=tenant.id)

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            self._refresh(tenant)
        return redirect

    @rx.event
    def set_new_domain(self, value: str):
        self.new_domain = value

    def _act(self, change) -> None:
        """Run `change(session, user, tenant_id, ip)` (the service audits it), then re-read."""
        if (owner := self._owner()) is None:
            return
        user, tenant = owner

        def run() -> None:
            with central_session() as session:
                change(session, user, tenant.id, self._ip())

        _, self.error = attempt(run)
        if not self.error:
            self._refresh(tenant)

    @rx.event
    def add(self):
        domain = self.new_domain
        self._act(lambda s, u, t, ip: add_domain(s, actor=u, tenant_id=t, domain=domain, ip=ip))
        if not self.error:
            self.new_domain = ""

    @rx.event
    def verify(self, domain_id: str, method: str):
        self._act(
            lambda s, u, t, ip: verify_domain(
                s, actor=u, tenant_id=t, domain_id=parse_id(domain_id, "domain"), method=method, ip=ip
            )
        )

    @rx.event
    def make_primary(self, domain_id: str):
        self._act(
            lambda s, u, t, ip: set_primary(
                s, actor=u, tenant_id=t, domain_id=parse_id(domain_id, "domain"), ip=ip
            )
        )

    @rx.event
    def remove(self, domain_id: str):
        self._act(
            lambda s, u, t, ip: remove_domain(
                s, actor=u, tenant_id=t, domain_id=parse_id(domain_id, "domain"), ip=ip
            )
        )


class ResellerPlansState(ResellerState):
    """The owner edits each plan in its row (name, description, price, setup fee, trial days,
    order, on sale) and adds plans of its own from EZSCALE's catalogue."""

    rows: list[ResellerPlanRow] = []
    offers: list[OfferRow] = []
    new_plan: dict[str, str] = {}  # the add-a-plan form, as typed

    def _refresh(self, tenant: TenantInfo) -> None:
        with tenant_session(tenant) as session:
            self.rows = reseller_plan_rows(session)
            self.offers = offer_rows(session, tenant=tenant)

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            self._refresh(tenant)
        return redirect

    def _edit_row(self, plan_id: int, **change: Any) -> None:
        """Change fields of a row as typed (`set_field` lets only `_PLAN_FIELDS` through)."""
        self.rows = [replace(r, **change) if r.id == plan_id else r for r in self.rows]

    @rx.event
    def set_field(self, plan_id: int, field: str, value: str):
        if field in _PLAN_FIELDS:
            self._edit_row(plan_id, **{field: value})

    @rx.event
    def set_active(self, plan_id: int, value: bool):
        self._edit_row(plan_id, active=value)

    @rx.event
    def set_new_plan(self, field: str, value: str):
        if field in ("offer", *_PLAN_FIELDS):
            self.new_plan = {**self.new_plan, field: value[:500]}

    @rx.event
    def add_plan(self):
        if (owner := self._owner()) is None:
            return None
        user, tenant = owner
        new = dict(self.new_plan)
        form = PlanForm(
            name=new.get("name") or None,
            description=new.get("description") or None,
            price=new.get("price", ""),
            setup_fee=new.get("setup_fee", ""),
            trial_days=new.get("trial_days", ""),
            sort_order=new.get("sort_order", ""),
            active=False,
        )

        def run() -> str:
            with tenant_session(tenant) as session:
                return add_offer(
                    session,
                    actor=user,
                    tenant=tenant,
                    offer_code=new.get("offer", ""),
                    form=form,
                    ip=self._ip(),
                ).name

        name, self.error = attempt(run)
        if self.error:
            return None
        self.new_plan = {}
        self._refresh(tenant)
        return rx.toast.success(f"{name} added, not on sale yet: check it, then tick On sale and save.")

    @rx.event
    def save(self, plan_id: int):
        if (owner := self._owner()) is None:
            return None
        user, tenant = owner
        row = next((r for r in self.rows if r.id == plan_id), None)
        if row is None:
            return None
        form = PlanForm(
            name=row.name,
            description=row.description,
            price=row.price,
            setup_fee=row.setup_fee,
            trial_days=row.trial_days,
            sort_order=row.sort_order,
            active=row.active,
        )

        def run() -> str:
            with tenant_session(tenant) as session:
                return update_plan(
                    session, actor=user, tenant=tenant, plan_id=row.id, form=form, ip=self._ip()
                ).name

        name, self.error = attempt(run)
        if self.error:
            return None
        unsaved = {r.id: r for r in self.rows if r.id != plan_id}
        self._refresh(tenant)
        self.rows = [unsaved.get(r.id, r) for r in self.rows]
        return rx.toast.success(f"{name}: saved.")


class ResellerCurrenciesState(CurrencyPricesMixin, ResellerState):
    """The owner's currencies (enabled, rounding) and fixed prices of its plans in them, each
    at least the wholesale price at today's rate."""

    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        return self._owner()

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            self._refresh(tenant)
        return redirect


class ResellerTemplatesState(TemplateEditor, ResellerState):
    """The reseller's own workspace templates (the service lets only the owner save)."""

    def _editor(self) -> tuple[AuthUser, TenantInfo] | None:
        return self._owner()

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            self._refresh(tenant)
        return redirect
