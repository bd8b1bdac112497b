"""Platform admin → one customer: record, timeline and actions (admin checked in every handler)."""

from functools import partial

import reflex as rx

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.http.impersonation import impersonation_link
from ezscale.services.customers import actions
from ezscale.services.customers.directory import customer_record
from ezscale.services.customers.view import parse_amount, record_view
from ezscale.services.tenancy.tenants import tenant_info
from ezscale.state.admin import AdminState
from ezscale.state.messages import attempt

_FORM = (
    "credit_amount",
    "credit_memo",
    "charge_amount",
    "charge_text",
    "note",
    "cn_amount",
    "cn_reason",
    "refund_amount",
    "refund_reason",
)


class AdminCustomerState(AdminState):
    _customer_tenant: int = 0
    _customer_id: int = 0
    profile: dict[str, str] = {}
    services: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
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
        self.credits, self.logins, self.payments = view["credits"], view["logins"], view["payments"]
        self.notes, self.timeline = view["notes"], view["timeline"]

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if not allowed:
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

    def _act(self, run, done: str, **fields):
        """Run an admin action on this customer; `fields` may be callables of the currency."""
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return None
        tenant = tenant_info(self._customer_tenant)
        ip = self.router.session.client_ip

        def act():
            values = {k: v(tenant.currency) if callable(v) else v for k, v in fields.items()}
            result = run(actor=admin, tenant=tenant, user_id=self._customer_id, ip=ip, **values)
            self._refresh()
            return result

        result, self.error = attempt(act)
        if self.error:
            return None
        self.form = {}
        return result if run is actions.impersonate else rx.toast.success(done)

    @rx.event
    def add_credit(self):
        text, memo = self.form.get("credit_amount", ""), self.form.get("credit_memo", "")
        amount = partial(parse_amount, text, signed=True)
        return self._act(actions.add_credit, "Credit balance changed.", amount_minor=amount, memo=memo)

    @rx.event
    def charge(self):
        amount = partial(parse_amount, self.form.get("charge_amount", ""))
        text = self.form.get("charge_text", "")
        return self._act(actions.charge, "Charge invoiced.", amount_minor=amount, description=text)

    @rx.event
    def credit_note(self, invoice_id: str):
        amount = partial(parse_amount, self.form.get("cn_amount", ""))
        reason = self.form.get("cn_reason", "")
        return self._act(
            actions.credit_note,
            "Credit note issued.",
            invoice_id=int(invoice_id),
            amount_minor=amount,
            reason=reason,
        )

    @rx.event
    def refund(self, payment_id: str):
        amount = partial(parse_amount, self.form.get("refund_amount", ""))
        reason = self.form.get("refund_reason", "")
        return self._act(
            actions.refund, "Refunded.", payment_id=int(payment_id), amount_minor=amount, reason=reason
        )

    @rx.event
    def service_action(self, service_id: str, action: str):
        return self._act(
            actions.change_service, f"Service {action}: done.", service_id=int(service_id), action=action
        )

    @rx.event
    def reset_two_factor(self):
        return self._act(actions.reset_two_factor, "Two-factor authentication reset.")

    @rx.event
    def add_note(self):
        return self._act(actions.add_note, "Note added.", body=self.form.get("note", ""))

    @rx.event
    def impersonate(self):
        token = self._act(actions.impersonate, "")
        if token is None:
            return None
        return rx.redirect(impersonation_link(tenant_info(self._customer_tenant), token))
