"""Customer billing: invoices with detail, PDF, Pay now and every enabled way to pay; credit;
saved payment methods; upcoming charges."""

import reflex as rx

from ezscale import routes
from ezscale.components.empty import empty_state, list_or_empty
from ezscale.components.layout import Area, area_page
from ezscale.components.stripe_card import CARD_JS
from ezscale.services.billing.views import CardRow, CreditRow, InvoiceRow, LineRow, UpcomingRow
from ezscale.services.payments.checkout import PayChoice
from ezscale.services.payments.gateway import LABELS
from ezscale.state.auth import AuthState
from ezscale.state.billing import BillingState


def _invoice_row(row: InvoiceRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.number),
        rx.table.cell(row.issued),
        rx.table.cell(row.due),
        rx.table.cell(row.total),
        rx.table.cell(rx.badge(row.status), class_name="invoice-status"),
        rx.table.cell(row.amount_due),
        rx.table.cell(
            rx.hstack(
                rx.button("View", size="1", variant="soft", on_click=BillingState.show(row.id)),
                rx.button("PDF", size="1", variant="soft", on_click=BillingState.download(row.id)),
                rx.cond(
                    row.payable,
                    rx.cond(
                        BillingState.default_method != "",
                        rx.button(
                            "Pay now", size="1", on_click=BillingState.pay_now(row.id), class_name="pay-now"
                        ),
                        rx.button("Pay", size="1", on_click=BillingState.show(row.id), class_name="pay-open"),
                    ),
                ),
                spacing="2",
            )
        ),
        custom_attrs={"data-invoice": row.number},
    )


def _invoices() -> rx.Component:
    empty = empty_state(
        "No invoices yet: they appear here when you order a plan or use a workspace.",
        "Browse plans",
        routes.HOME,
        empty_id="no-invoices",
    )
    return list_or_empty(BillingState.invoice_rows, _invoice_table(), empty)


def _invoice_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(h)
                    for h in ("Number", "Issued", "Due", "Total", "Status", "Due now", "")
                ]
            )
        ),
        rx.table.body(rx.foreach(BillingState.invoice_rows, _invoice_row)),
        id="billing-invoices",
        width="100%",
    )


def _line(line: LineRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line.description), rx.table.cell(line.quantity), rx.table.cell(line.amount)
    )


def _detail() -> rx.Component:
    detail = BillingState.detail
    return rx.cond(
        detail,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(detail.row.kind, " ", detail.row.number, size="5"),
                    rx.spacer(),
                    rx.button("Close", variant="ghost", on_click=BillingState.close_detail),
                    width="100%",
                ),
                rx.text(detail.bill_to, white_space="pre-line", size="2", color_scheme="gray"),
                rx.table.root(rx.table.body(rx.foreach(detail.lines, _line)), width="100%"),
                rx.text("Subtotal ", detail.subtotal),
                rx.text(detail.tax_label, " ", detail.tax),
                rx.text("Total ", detail.row.total, weight="bold"),
                rx.text("Credit applied ", detail.credit_applied, " · Paid by card ", detail.paid),
                rx.text("Due now ", detail.row.amount_due, weight="bold", id="detail-due"),
                rx.cond(detail.row.payable, _pay_choices(detail.row.id)),
                spacing="2",
                width="100%",
            ),
            id="invoice-detail",
            width="100%",
        ),
    )


def _choice(invoice_id: int, choice: PayChoice) -> rx.Component:
    return rx.button(
        choice.label,
        variant="soft",
        on_click=BillingState.pay_with(invoice_id, choice.gateway),
        id="pay-with-" + choice.gateway,
    )


def _pay_choices(invoice_id: int) -> rx.Component:
    """Pay with the default method, or once with any gateway the site takes."""
    return rx.vstack(
        rx.cond(
            BillingState.default_method != "",
            rx.button(
                "Pay now with ", BillingState.default_method, on_click=BillingState.pay_now(invoice_id)
            ),
        ),
        rx.cond(
            BillingState.pay_choices.length() > 0,
            rx.text("Pay once with:", size="2", color_scheme="gray"),
            rx.text(
                "Payments are not available yet.", size="2", color_scheme="gray", id="payments-unavailable"
            ),
        ),
        rx.flex(
            rx.foreach(BillingState.pay_choices, lambda c: _choice(invoice_id, c)), wrap="wrap", spacing="2"
        ),
        rx.cond(
            BillingState.wallet_choice,
            rx.checkbox(
                "Keep PayPal for renewals",
                checked=BillingState.save_wallet,
                on_change=BillingState.set_save_wallet,
                id="save-wallet",
            ),
        ),
        rx.el.div(id="pay-card-element", style={"width": "100%"}),
        rx.cond(
            BillingState.paying_card,
            rx.button("Pay with this card", on_click=BillingState.confirm_card_payment, id="pay-card"),
        ),
        spacing="2",
        width="100%",
    )


def _credit_row(row: CreditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.when), rx.table.cell(row.kind), rx.table.cell(row.memo), rx.table.cell(row.amount)
    )


def _credit() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Account credit: ", rx.el.span(BillingState.balance, id="credit-balance"), size="4"),
            rx.text("Credit pays invoices before your card is charged.", size="2", color_scheme="gray"),
            rx.hstack(
                rx.input(
                    value=BillingState.top_up_amount,
                    on_change=BillingState.set_top_up_amount,
                    id="top-up-amount",
                ),
                rx.button("Add credit by card", on_click=BillingState.top_up, id="top-up"),
            ),
            rx.table.root(rx.table.body(rx.foreach(BillingState.credit_rows, _credit_row)), width="100%"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _card_row(card: CardRow) -> rx.Component:
    return rx.hstack(
        rx.text(card.label, rx.cond(card.expires != "", " · " + card.expires, "")),
        rx.cond(card.is_default, rx.badge("default", color_scheme="green")),
        rx.spacer(),
        rx.cond(
            ~card.is_default,
            rx.button("Make default", size="1", variant="soft", on_click=BillingState.make_default(card.id)),
        ),
        rx.button(
            "Remove", size="1", variant="soft", color_scheme="red", on_click=BillingState.remove_card(card.id)
        ),
        width="100%",
        class_name="saved-card",
    )


def _cards() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Payment methods", size="4"),
            rx.cond(
                BillingState.default_method != "",
                rx.cond(
                    BillingState.default_method == LABELS["btcpay"],
                    rx.text(
                        "Renewals are mailed to you as crypto pay links.", size="2", id="renew-by-crypto"
                    ),
                    rx.text("Renewals are charged to your default: ", BillingState.default_method, size="2"),
                ),
                rx.text(
                    "No saved payment method: renewals wait for you to pay them here.",
                    size="2",
                    color_scheme="gray",
                    id="no-default-method",
                ),
            ),
            rx.foreach(BillingState.card_rows, _card_row),
            rx.cond(
                BillingState.crypto_choice & (BillingState.default_method != LABELS["btcpay"]),
                rx.button(
                    "Pay renewals in crypto instead (a pay link by mail)",
                    size="1",
                    variant="soft",
                    on_click=BillingState.renew_with_crypto,
                    id="renew-crypto",
                ),
            ),
            rx.el.div(id="card-element", style={"width": "100%"}),
            rx.cond(
                BillingState.adding_card,
                rx.button("Save card", on_click=BillingState.confirm_card, id="save-card"),
                rx.button("Add a card", variant="soft", on_click=BillingState.start_add_card, id="add-card"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _upcoming_row(row: UpcomingRow) -> rx.Component:
    return rx.table.row(rx.table.cell(row.plan), rx.table.cell(row.next_date), rx.table.cell(row.amount))


def _upcoming() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Upcoming charges", size="4"),
            list_or_empty(
                BillingState.upcoming_rows,
                rx.table.root(
                    rx.table.body(rx.foreach(BillingState.upcoming_rows, _upcoming_row)), width="100%"
                ),
                empty_state(
                    "Nothing is due: you have no subscriptions and no workspace usage this period.",
                    "Order a service",
                    routes.HOME,
                    empty_id="no-upcoming",
                ),
            ),
            # While a workspace runs, its usage so far is re-read every 15 seconds.
            rx.cond(
                BillingState.usage_running,
                rx.moment(interval=15_000, on_change=BillingState.refresh_usage, display="none"),
            ),
            width="100%",
        ),
        width="100%",
        id="upcoming",
    )


@area_page(
    Area.CUSTOMER,
    route=routes.CLIENT_BILLING,
    title="Billing",
    on_load=[AuthState.require_customer, BillingState.load],
)
def billing_page() -> rx.Component:
    return rx.vstack(
        rx.script(src=CARD_JS),
        rx.heading("Billing", size="7"),
        rx.cond(
            BillingState.message != "",
            rx.callout(BillingState.message, color_scheme="green", id="billing-message"),
        ),
        rx.cond(
            BillingState.error != "",
            rx.callout(BillingState.error, color_scheme="red", id="billing-error"),
        ),
        _detail(),
        rx.heading("Invoices", size="5"),
        _invoices(),
        rx.grid(
            _credit(),
            rx.vstack(_cards(), _upcoming(), width="100%"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="5",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
