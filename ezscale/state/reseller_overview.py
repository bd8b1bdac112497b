"""Reseller overview: figures, the card EZSCALE charges, and wholesale invoices (PDF, pay)."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.billing.views import stripe_js_url
from ezscale.services.resellers.dashboard import summary
from ezscale.services.resellers.onboarding import Step, checklist
from ezscale.services.resellers.view import (
    StatCard,
    WholesaleInvoiceRow,
    overview_cards,
    wholesale_invoice_rows,
)
from ezscale.services.resellers.wholesale import wholesale_pdf
from ezscale.services.resellers.wholesale_payments import card_label, pay_invoice, save_card, start_card_setup
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from ezscale.state.messages import attempt, parse_id
from ezscale.state.reseller import ResellerState


class ResellerOverviewState(ResellerState):
    cards: list[StatCard] = []
    invoices: list[WholesaleInvoiceRow] = []
    card_label: str = ""
    adding_card: bool = False
    steps: list[Step] = []
    steps_left: int = 0

    def _refresh(self, tenant: TenantInfo) -> None:
        with tenant_session(tenant) as session:
            s = summary(session, currency=tenant.currency)
        self.cards = overview_cards(s)
        with central_session() as session, tenant_session(tenant) as db:
            steps = checklist(session, db, tenant=tenant)
        self.steps = steps
        self.steps_left = sum(not st.done for st in steps)
        with central_session() as session:
            self.card_label = card_label(session, tenant_id=tenant.id)
            self.invoices = wholesale_invoice_rows(session, tenant_id=tenant.id)

    @rx.event
    def load(self):
        redirect, tenant = self._guard()
        if tenant is not None:
            self._refresh(tenant)
        return redirect

    @rx.event
    def start_add_card(self):
        if (owner := self._owner()) is None:
            return None

        def run() -> str:
            with central_session() as central:
                return start_card_setup(central, actor=owner[0], tenant_id=owner[1].id)

        secret, self.error = attempt(run)
        if self.error:
            return None
        self.adding_card = True
        pk = get_settings().stripe_publishable_key
        return rx.call_script(f"window.ezscaleCard.mount({stripe_js_url()!r}, {pk!r}, {secret!r})")

    @rx.event
    def confirm_card(self):
        return rx.call_script("window.ezscaleCard.confirm()", callback=ResellerOverviewState.card_confirmed)

    @rx.event
    def card_confirmed(self, result: dict):
        if (owner := self._owner()) is None:
            return None
        user, tenant = owner
        if not result or result.get("error"):
            self.error = (result or {}).get("error") or "The card could not be saved."
            return None
        setup_intent_id = str(result.get("setup_intent", ""))

        def run() -> str:
            with central_session() as central:
                return save_card(
                    central, actor=user, tenant_id=tenant.id, setup_intent_id=setup_intent_id, ip=self._ip()
                )

        label, self.error = attempt(run)
        if self.error:
            return None
        self.adding_card = False
        self._refresh(tenant)
        return rx.toast.success(f"{label} will be charged for wholesale invoices.")

    @rx.event
    def pay(self, invoice_id: str):
        if (owner := self._owner()) is None:
            return None
        user, tenant = owner

        def run():
            with central_session() as central:
                return pay_invoice(
                    central,
                    actor=user,
                    invoice_id=parse_id(invoice_id, "invoice"),
                    tenant_id=tenant.id,
                    ip=self._ip(),
                )

        invoice, self.error = attempt(run)
        if self.error or invoice is None:
            return None
        self._refresh(tenant)
        if invoice.failure_message:
            self.error = invoice.failure_message
            return None
        return rx.toast.success(f"Invoice {invoice.number} paid.")

    @rx.event
    def download(self, invoice_id: str):
        if (owner := self._owner()) is None:
            return None

        def run() -> tuple[str, bytes]:
            with central_session() as central:
                return wholesale_pdf(
                    central, tenant_id=owner[1].id, invoice_id=parse_id(invoice_id, "invoice")
                )

        pdf, self.error = attempt(run)
        if pdf is None:
            return None
        name, data = pdf
        return rx.download(data=data, filename=name)
