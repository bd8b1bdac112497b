"""One customer's record and the staff actions on it, shared by the admin area (any tenant's
customer) and the reseller area (its own customers only) as a Reflex state mixin: each area's
state says who acts on which tenant (`_who`), the services check what that role may do."""

import secrets
from functools import partial

import reflex as rx

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.http.impersonation import impersonation_link
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.customers import actions
from ezscale.services.customers.directory import customer_record
from ezscale.services.customers.view import (
    ProfileView,
    RecordCreditRow,
    RecordInvoiceRow,
    RecordLoginRow,
    RecordNoteRow,
    RecordPaymentRow,
    RecordServiceRow,
    RecordTimelineRow,
    parse_amount,
    record_view,
)
from ezscale.services.resellers.roles import permissions
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.state.messages import attempt, parse_id

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


class CustomerRecordMixin(rx.State, mixin=True):
    _customer_id: int = 0
    _refund_key: str = ""  # the refund form's one-time key: new each time the form is shown empty
    profile: ProfileView = ProfileView()
    services: list[RecordServiceRow] = []
    invoices: list[RecordInvoiceRow] = []
    payments: list[RecordPaymentRow] = []
    credits: list[RecordCreditRow] = []
    logins: list[RecordLoginRow] = []
    notes: list[RecordNoteRow] = []
    timeline: list[RecordTimelineRow] = []
    form: dict[str, str] = {}
    can: list[str] = []
    error: str = ""

    def _who(self) -> tuple[AuthUser, TenantInfo] | None:
        """Who acts, and on which tenant's customers (None: not allowed)."""
        raise NotImplementedError

    def _open(self, user_id: str) -> None:
        """Show customer `user_id` of the acting tenant, or "No such customer."."""
        try:
            who = self._who()
            if who is None:
                raise DomainError("Not allowed.")
            self._customer_id = int(user_id)
            self._refresh(who)
            self.error, self._refund_key = "", secrets.token_urlsafe(16)
        except (ValueError, DomainError):
            self.profile, self.can, self.error = ProfileView(), [], "No such customer."

    def _refresh(self, who: tuple[AuthUser, TenantInfo]) -> None:
        actor, tenant = who
        self.can = sorted(permissions(actor, tenant.id))
        if "view" not in self.can:
            raise DomainError("No such customer.")
        with central_session() as central:
            record = customer_record(central, tenant=tenant, user_id=self._customer_id)
        view = record_view(record)
        self.profile, self.services, self.invoices = view.profile, view.services, view.invoices
        self.credits, self.logins, self.payments = view.credits, view.logins, view.payments
        self.notes, self.timeline = view.notes, view.timeline

    @rx.event
    def set_form(self, field: str, value: str):
        if field in _FORM:
            self.form = {**self.form, field: value[:500]}

    def _act(self, run, done: str, **fields):
        """Run a staff action on this customer; `fields` may be callables of the currency (parsed
        inside the attempt, so bad input is a message)."""
        ip = self.router.session.client_ip

        def act() -> tuple[object, TenantInfo]:
            who = self._who()
            if who is None:
                raise DomainError("Not allowed.")
            actor, tenant = who
            values = {k: v(tenant.currency) if callable(v) else v for k, v in fields.items()}
            result = run(actor=actor, tenant=tenant, user_id=self._customer_id, ip=ip, **values)
            self._refresh(who)
            return result, tenant

        outcome, self.error = attempt(act)
        if self.error or outcome is None:
            return None
        self.form, self._refund_key = {}, secrets.token_urlsafe(16)
        result, tenant = outcome
        if run is actions.impersonate:
            return rx.redirect(impersonation_link(tenant, str(result)))
        return rx.toast.success(done)

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
            invoice_id=lambda _currency: parse_id(invoice_id, "invoice"),
            amount_minor=amount,
            reason=reason,
        )

    @rx.event
    def refund(self, payment_id: str):
        amount = partial(parse_amount, self.form.get("refund_amount", ""))
        reason = self.form.get("refund_reason", "")
        return self._act(
            actions.refund,
            "Refunded.",
            payment_id=lambda _currency: parse_id(payment_id, "payment"),
            amount_minor=amount,
            reason=reason,
            request_key=self._refund_key,
        )

    @rx.event
    def service_action(self, service_id: str, action: str):
        return self._act(
            actions.change_service,
            f"Service {action}: done.",
            service_id=lambda _currency: parse_id(service_id, "service"),
            action=action,
        )

    @rx.event
    def reset_two_factor(self):
        return self._act(actions.reset_two_factor, "Two-factor authentication reset.")

    @rx.event
    def resend_verification(self):
        return self._act(actions.resend_verification, "Verification mail sent.")

    @rx.event
    def add_note(self):
        return self._act(actions.add_note, "Note added.", body=self.form.get("note", ""))

    @rx.event
    def impersonate(self):
        return self._act(actions.impersonate, "")
