"""The customer's billing page: invoices (detail, PDF, Pay now or by any enabled gateway),
credit, saved payment methods, upcoming charges."""

import json
from decimal import Decimal, InvalidOperation

import reflex as rx

from ezscale.errors import DomainError
from ezscale.services.billing import invoices, payments, views
from ezscale.services.fx.currencies import customer_minor
from ezscale.services.payments import checkout, connect
from ezscale.services.tenancy.tenants import tenant_session
from ezscale.settings import get_settings
from ezscale.state.auth import AuthState
from ezscale.state.messages import attempt


class BillingState(AuthState):
    balance: str = ""
    invoice_rows: list[views.InvoiceRow] = []
    credit_rows: list[views.CreditRow] = []
    card_rows: list[views.CardRow] = []
    upcoming_rows: list[views.UpcomingRow] = []
    detail: views.InvoiceDetail | None = None
    top_up_amount: str = "20.00"
    adding_card: bool = False
    paying_card: bool = False
    # The gateways the tenant enabled, as {"gateway", "label"}, and whether to keep PayPal.
    pay_choices: list[checkout.PayChoice] = []
    save_wallet: bool = True
    message: str = ""
    error: str = ""

    def _refresh(self, user_id: int) -> None:
        tenant = self._site_tenant()
        with tenant_session(tenant) as db:
            view = views.overview(db, tenant=tenant, user_id=user_id)
            if self.detail is not None:
                self.detail = views.detail(db, user_id=user_id, invoice_id=self.detail.row.id)
        self.balance = view.balance
        self.invoice_rows, self.credit_rows = view.invoices, view.credit_history
        self.card_rows, self.upcoming_rows = view.cards, view.upcoming
        self.pay_choices = checkout.choices(tenant)

    @rx.var
    def wallet_choice(self) -> bool:
        """Whether PayPal is among the ways to pay (it can be kept for renewals)."""
        return any(choice.gateway == "paypal" for choice in self.pay_choices)

    @rx.var
    def crypto_choice(self) -> bool:
        """Whether BTCPay is among the ways to pay (renewals can then come as crypto pay links)."""
        return any(choice.gateway == "btcpay" for choice in self.pay_choices)

    @rx.var
    def default_method(self) -> str:
        """The saved method renewals are charged to ("" when there is none)."""
        return next((row.label for row in self.card_rows if row.is_default), "")

    def _act(self, action, success: str) -> None:
        """Run `action(db, tenant, user_id)` for the signed-in customer; show the outcome."""
        user = self._customer()
        if user is None:
            self.error = "Please sign in again."
            return
        tenant = self._site_tenant()

        def run() -> None:
            with tenant_session(tenant) as db:
                action(db, tenant, user.id)

        _, self.error = attempt(run)
        self.message = "" if self.error else success
        self._refresh(user.id)

    def _show(self, user_id: int, invoice_id: int) -> None:
        def run() -> views.InvoiceDetail:
            with tenant_session(self._site_tenant()) as db:
                return views.detail(db, user_id=user_id, invoice_id=invoice_id)

        detail, error = attempt(run)
        if error:
            self.error = error
        else:
            self.detail = detail

    @rx.event
    def load(self):
        """The page; `?invoice=<id>` opens one of the customer's invoices (after an order)."""
        self.detail, self.adding_card, self.message, self.error = None, False, "", ""
        self.paying_card = False
        user = self._customer()
        if user is None:
            return
        self._refresh(user.id)
        opened = self.router.url.query_parameters.get("invoice", "")
        if opened.isdigit():
            self._show(user.id, int(opened))

    @rx.event
    def show(self, invoice_id: int):
        user = self._customer()
        if user is not None:
            self._show(user.id, int(invoice_id))

    @rx.event
    def close_detail(self):
        self.detail = None

    @rx.event
    def pay_now(self, invoice_id: int):
        def pay(db, tenant, user_id):
            invoice = invoices.get_invoice(db, invoice_id=int(invoice_id), user_id=user_id)
            if not invoices.amount_due(invoice):
                raise DomainError("Nothing is due on this invoice.")
            payments.charge_invoice(db, tenant=tenant, invoice=invoice)
            if invoice.status.value != "paid":
                raise DomainError("The payment did not go through; check your card and try again.")

        self._act(pay, "Thank you: the invoice is paid.")

    @rx.event
    def set_save_wallet(self, value: bool):
        self.save_wallet = bool(value)

    @rx.event
    def pay_with(self, invoice_id: int, gateway: str):
        """Pay an open invoice at a gateway: off to PayPal or BTCPay, or a one-off card here."""
        user, tenant = self._customer(), self._tenant()
        if user is None or tenant is None:
            return None

        def run():
            with tenant_session(tenant) as db:
                return checkout.start(
                    db,
                    tenant=tenant,
                    user_id=user.id,
                    invoice_id=int(invoice_id),
                    gateway=str(gateway),
                    save_method=self.save_wallet,
                )

        started, self.error = attempt(run)
        if self.error or started is None:
            return None
        if started.redirect_url:
            return rx.call_script(f"window.location.assign({json.dumps(started.redirect_url)})")
        self.paying_card, self.adding_card, self.message = True, False, ""
        pk, account = get_settings().stripe_publishable_key, connect.account_for(tenant) or ""
        return rx.call_script(
            f"window.ezscaleCard.mount({views.stripe_js_url()!r}, {pk!r}, {started.client_secret!r}, "
            f"'#pay-card-element', {account!r})"
        )

    @rx.event
    def confirm_card_payment(self):
        return rx.call_script("window.ezscaleCard.confirm()", callback=BillingState.card_payment_confirmed)

    @rx.event
    def card_payment_confirmed(self, result: dict):
        if not result or result.get("error"):
            self.error = (result or {}).get("error") or "The card was not accepted."
            return
        setup_intent = str(result.get("setup_intent", ""))
        self._act(
            lambda db, tenant, user_id: checkout.finish_card(
                db, tenant=tenant, user_id=user_id, setup_intent_id=setup_intent
            ),
            "Thank you: the invoice is paid.",
        )
        self.paying_card = self.error != ""

    @rx.event
    def download(self, invoice_id: int):
        user = self._customer()
        if user is None:
            return None
        tenant = self._site_tenant()

        def run() -> tuple[str, bytes]:
            with tenant_session(tenant) as db:
                return views.invoice_pdf(db, tenant=tenant, user_id=user.id, invoice_id=int(invoice_id))

        pdf, error = attempt(run)
        if pdf is None:
            self.error = error
            return None
        name, data = pdf
        return rx.download(data=data, filename=name)

    @rx.event
    def set_top_up_amount(self, value: str):
        self.top_up_amount = value

    @rx.event
    def top_up(self):
        try:
            amount = Decimal(self.top_up_amount.strip())
        except InvalidOperation:
            self.error = "Enter an amount such as 20.00."
            return

        def charge(db, tenant, user_id):
            minor = customer_minor(db, user_id=user_id, amount=amount)  # in the customer's currency
            payment = payments.top_up(db, tenant=tenant, user_id=user_id, amount_minor=minor)
            if payment.status.value != "succeeded":
                raise DomainError(payment.failure_message or "The card was declined.")

        self._act(charge, "Credit added.")

    @rx.event
    def start_add_card(self):
        user = self._customer()
        if user is None:
            return None
        tenant = self._tenant()

        def run() -> str:
            with tenant_session(tenant) as db:
                return payments.start_card_setup(db, tenant=tenant, user_id=user.id)

        secret, self.error = attempt(run)
        if self.error:
            return None
        self.adding_card = True
        pk, account = get_settings().stripe_publishable_key, connect.account_for(tenant) or ""
        return rx.call_script(
            f"window.ezscaleCard.mount({views.stripe_js_url()!r}, {pk!r}, {secret!r}, "
            f"'#card-element', {account!r})"
        )

    @rx.event
    def confirm_card(self):
        return rx.call_script("window.ezscaleCard.confirm()", callback=BillingState.card_confirmed)

    @rx.event
    def card_confirmed(self, result: dict):
        if not result or result.get("error"):
            self.error = (result or {}).get("error") or "The card could not be saved."
            return
        setup_intent = str(result.get("setup_intent", ""))
        self._act(
            lambda db, tenant, user_id: payments.save_card(
                db, tenant=tenant, user_id=user_id, setup_intent_id=setup_intent
            ),
            "Card saved.",
        )
        self.adding_card = self.error != ""

    @rx.event
    def make_default(self, card_id: int):
        self._act(
            lambda db, tenant, user_id: payments.set_default_card(
                db, tenant=tenant, user_id=user_id, card_id=int(card_id)
            ),
            "Default payment method changed.",
        )

    @rx.event
    def renew_with_crypto(self):
        if not self.crypto_choice:
            self.error = "Crypto payments are not offered here."
            return
        self._act(
            lambda db, tenant, user_id: payments.renew_by_crypto(db, user_id=user_id),
            "Renewals will now be mailed to you as crypto pay links.",
        )

    @rx.event
    def remove_card(self, card_id: int):
        self._act(
            lambda db, tenant, user_id: payments.remove_card(
                db, user_id=user_id, card_id=int(card_id), tenant=tenant
            ),
            "Payment method removed.",
        )

    @rx.var
    def usage_running(self) -> bool:
        """Whether upcoming charges include workspace usage that is still growing."""
        return any(row.running for row in self.upcoming_rows)

    @rx.event
    def refresh_usage(self, _now: str = ""):
        """Re-read the page while a workspace runs, so its usage so far stays current."""
        user = self._customer()
        if user is not None:
            self._refresh(user.id)
