"""Platform admin → one customer: record, timeline and actions (admin checked in every handler)."""

import reflex as rx

from ezscale import routes
from ezscale.db import central_session
from ezscale.services import admin_customer_actions as actions
from ezscale.services.admin_customer_view import parse_amount, record_view
from ezscale.services.admin_customers import customer_record
from ezscale.services.errors import DomainError
from ezscale.services.tenancy import list_tenants, site_url, tenant_info
from ezscale.state.auth import AuthState

_FORM = ("credit_amount", "credit_memo", "charge_amount", "charge_text", "note", "cn_amount", "cn_reason")


class AdminCustomerState(AuthState):
    _customer_tenant: int = 0
    _customer_id: int = 0
    profile: dict[str, str] = {}
    services: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    credits: list[dict[str, str]] = []
    logins: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    form: dict[str, str] = {}
    error: str = ""

    def _refresh(self) -> None:
        with central_session() as central:
            record = customer_record(
                central, tenant=tenant_info(self._customer_tenant), user_id=self._customer_id
            )
        view = record_view(record)
        self.profile, self.services, self.invoices = view["profile"], view["services"], view["invoices"]
        self.credits, self.logins = view["credits"], view["logins"]
        self.notes, self.timeline = view["notes"], view["timeline"]

    @rx.event
    def load(self):
        redirect = self.require_admin()
        if redirect is not None or self.denied:
            return redirect
        params = self.router.url.query_parameters
        try:
            self._customer_tenant, self._customer_id = (
                int(params.get("tenant", "")),
                int(params.get("user", "")),
            )
            self._refresh()
            self.error = ""
        except (ValueError, DomainError):
            self.profile, self.error = {}, "No such customer."
        return None

    @rx.event
    def set_form(self, field: str, value: str):
        if field in _FORM:
            self.form = {**self.form, field: value[:500]}

    def _act(self, change, done: str):
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return None
        tenant = tenant_info(self._customer_tenant)
        try:
            result = change(admin, tenant, self.router.session.client_ip)
            self._refresh()
        except DomainError as error:
            self.error = str(error)
            return None
        self.error, self.form = "", {}
        return result if isinstance(result, rx.event.EventSpec) else rx.toast.success(done)

    @rx.event
    def add_credit(self):
        f = self.form

        def change(admin, tenant, ip):
            amount = parse_amount(f.get("credit_amount", ""), tenant.currency, signed=True)
            actions.add_credit(
                actor=admin,
                tenant=tenant,
                user_id=self._customer_id,
                amount_minor=amount,
                memo=f.get("credit_memo", ""),
                ip=ip,
            )

        return self._act(change, "Credit balance changed.")

    @rx.event
    def charge(self):
        f = self.form

        def change(admin, tenant, ip):
            amount = parse_amount(f.get("charge_amount", ""), tenant.currency)
            actions.charge(
                actor=admin,
                tenant=tenant,
                user_id=self._customer_id,
                amount_minor=amount,
                description=f.get("charge_text", ""),
                ip=ip,
            )

        return self._act(change, "Charge invoiced.")

    @rx.event
    def credit_note(self, invoice_id: str):
        f = self.form

        def change(admin, tenant, ip):
            amount = parse_amount(f.get("cn_amount", ""), tenant.currency)
            actions.credit_note(
                actor=admin,
                tenant=tenant,
                user_id=self._customer_id,
                invoice_id=int(invoice_id),
                amount_minor=amount,
                reason=f.get("cn_reason", ""),
                ip=ip,
            )

        return self._act(change, "Credit note issued.")

    @rx.event
    def service_action(self, service_id: str, action: str):
        def change(admin, tenant, ip):
            actions.change_service(
                actor=admin,
                tenant=tenant,
                user_id=self._customer_id,
                service_id=int(service_id),
                action=action,
                ip=ip,
            )

        return self._act(change, f"Service {action} done.")

    @rx.event
    def reset_two_factor(self):
        return self._act(
            lambda admin, tenant, ip: actions.reset_two_factor(
                actor=admin, tenant=tenant, user_id=self._customer_id, ip=ip
            ),
            "Two-factor authentication reset.",
        )

    @rx.event
    def add_note(self):
        body = self.form.get("note", "")
        return self._act(
            lambda admin, tenant, ip: actions.add_note(
                actor=admin, tenant=tenant, user_id=self._customer_id, body=body, ip=ip
            ),
            "Note added.",
        )

    @rx.event
    def impersonate(self):
        def change(admin, tenant, ip):
            token = actions.impersonate(actor=admin, tenant=tenant, user_id=self._customer_id, ip=ip)
            with central_session() as central:
                domains = next(d for t, d in list_tenants(central) if t.id == tenant.id)
            return rx.redirect(f"{site_url(domains[0])}{routes.IMPERSONATE}?token={token}")

        return self._act(change, "")
