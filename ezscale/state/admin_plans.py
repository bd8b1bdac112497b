"""Platform admin → Plans: the house catalogue (create, edit) and what resellers pay wholesale."""

from dataclasses import replace

import reflex as rx

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.tenant import BillingInterval, ServiceType
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.catalogue.plans import (
    PlanForm,
    PlanRow,
    create_plan,
    list_plans,
    set_wholesale_price,
    update_plan,
)
from ezscale.services.catalogue.view import (
    ResellerOption,
    reseller_options,
)
from ezscale.services.tenancy.tenants import TenantInfo, get_tenant, tenant_session
from ezscale.state.admin import AdminState
from ezscale.state.currency_prices import CurrencyPricesMixin
from ezscale.state.messages import attempt, parse_id

SERVICE_TYPES = [t.value for t in ServiceType]
INTERVALS = [i.value for i in BillingInterval]
_TEXT_FIELDS = (
    "name",
    "code",
    "description",
    "service_type",
    "interval",
    "price",
    "setup_fee",
    "sort_order",
    "trial_days",
)
_NEW = {f: "" for f in _TEXT_FIELDS} | {"service_type": "vps", "interval": "monthly"}


class AdminPlansState(AdminState):
    """The house tenant's plans: a table and one form, for a new plan or the one being edited."""

    plans: list[PlanRow] = []
    form: dict[str, str] = dict(_NEW)
    form_active: bool = True
    editing: str = ""  # id of the plan in the form; "" for a new plan
    error: str = ""

    def _refresh(self, house: TenantInfo) -> None:
        with tenant_session(house) as session:
            self.plans = list_plans(session)

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed and (found := self._house()):
            self._refresh(found[1])
        return redirect

    @rx.event
    def set_field(self, field: str, value: str):
        if field in _TEXT_FIELDS:
            self.form = {**self.form, field: value}

    @rx.event
    def set_form_active(self, value: bool):
        self.form_active = value

    @rx.event
    def edit(self, plan_id: int):
        if self._house() is None:
            return
        row = next((p for p in self.plans if p.id == plan_id), None)
        if row is not None:
            self.form = {f: str(getattr(row, f)) for f in _TEXT_FIELDS}
            self.form_active, self.editing, self.error = row.active, str(plan_id), ""

    @rx.event
    def new_plan(self):
        if self._house() is None:
            return
        self.form, self.form_active, self.editing, self.error = dict(_NEW), True, "", ""

    @rx.event
    def save(self):
        if (found := self._house()) is None:
            return None
        admin, house = found
        form = PlanForm(**{f: self.form.get(f, "") for f in _TEXT_FIELDS}, active=self.form_active)
        ip = self._ip()
        editing = self.editing

        def run() -> str:
            with tenant_session(house) as session:
                if editing:
                    plan_id = parse_id(editing, "plan")
                    return update_plan(
                        session, actor=admin, tenant=house, plan_id=plan_id, form=form, ip=ip
                    ).name
                return create_plan(session, actor=admin, tenant=house, form=form, ip=ip).name

        name, self.error = attempt(run)
        if self.error:
            return None
        self.form, self.form_active, self.editing, self.error = dict(_NEW), True, "", ""
        self._refresh(house)
        return rx.toast.success(f"{name}: saved.")


class AdminWholesaleState(AdminState):
    """What one reseller pays EZSCALE per plan; never above that reseller's own price."""

    resellers: list[ResellerOption] = []
    reseller: str = ""  # slug of the reseller shown
    rows: list[PlanRow] = []  # the reseller's plans, `wholesale` as typed
    error: str = ""

    def _reseller_info(self) -> TenantInfo | None:
        if not self.reseller:
            return None
        with central_session() as central:
            return TenantInfo.of(get_tenant(central, self.reseller))

    def _refresh(self) -> None:
        tenant = self._reseller_info()
        if tenant is None:
            self.rows = []
            return
        with tenant_session(tenant) as session:
            self.rows = list_plans(session)

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed:
            with central_session() as central:
                self.resellers = reseller_options(central)
            self._refresh()
        return redirect

    @rx.event
    def choose(self, slug: str):
        if self._admin() is None:
            self.error = "Not allowed."
            return
        self.reseller, self.error = slug, ""
        try:
            self._refresh()
        except DomainError as error:
            self.reseller, self.rows, self.error = "", [], str(error)

    @rx.event
    def set_draft(self, plan_id: int, value: str):
        self.rows = [replace(r, wholesale=value) if r.id == plan_id else r for r in self.rows]

    @rx.event
    def save(self, plan_id: int):
        if (admin := self._admin()) is None:
            self.error = "Not allowed."
            return None
        row = next((r for r in self.rows if r.id == plan_id), None)
        if row is None:
            return None
        ip = self._ip()

        def run() -> str:
            tenant = self._reseller_info()
            if tenant is None:
                raise DomainError("Choose a reseller first.")
            with tenant_session(tenant) as session:
                return set_wholesale_price(
                    session,
                    actor=admin,
                    tenant=tenant,
                    plan_id=plan_id,
                    price=row.wholesale,
                    ip=ip,
                ).name

        name, self.error = attempt(run)
        if self.error:
            return None
        self._refresh()
        return rx.toast.success(f"{name}: wholesale price saved.")


class AdminCurrenciesState(CurrencyPricesMixin, AdminState):
    """The house storefront's currencies (enabled, rounding rule) and plans' prices in them."""

    error: str = ""

    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        return self._house()

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed and (found := self._house()):
            self._refresh(found[1])
        return redirect
