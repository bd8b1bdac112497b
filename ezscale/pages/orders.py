"""The order page of one recurring plan: what it costs now, then "Place order"."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_page, not_allowed
from ezscale.state.auth import AuthState
from ezscale.state.orders import OrderState


def _row(label, value, test_id: str, **props) -> rx.Component:
    return rx.table.row(rx.table.cell(label), rx.table.cell(value, id=test_id, text_align="right", **props))


def _quote() -> rx.Component:
    quote = OrderState.quote
    return rx.card(
        rx.vstack(
            rx.badge(quote.kind, variant="soft"),
            rx.heading(quote.name, size="6", id="order-plan"),
            rx.text(quote.description, color_scheme="gray"),
            rx.text(quote.interval, " · ", quote.recurring, id="order-recurring"),
            rx.cond(
                quote.trial != "",
                rx.callout(quote.trial, icon="gift", color_scheme="green", id="order-trial"),
            ),
            rx.table.root(
                rx.table.body(
                    _row("Setup fee", quote.setup, "order-setup"),
                    _row(rx.text("First period ", quote.period), quote.first, "order-first"),
                    _row(quote.tax_label, quote.tax, "order-tax"),
                    _row("Total", quote.total, "order-total", font_weight="bold"),
                    _row("Paid from account credit", quote.credit, "order-credit"),
                    _row("Due now", quote.due_now, "order-due-now", font_weight="bold"),
                ),
                width="100%",
            ),
            rx.cond(
                quote.trial_note != "",
                rx.vstack(
                    rx.text(quote.trial_note, size="2", color_scheme="gray", id="order-trial-note"),
                    rx.cond(
                        quote.default_method == "",
                        rx.text(
                            "A free trial needs a saved card or PayPal account: ",
                            rx.link("add one under Billing", href=routes.CLIENT_BILLING),
                            ", then come back to order.",
                            size="2",
                            id="order-trial-needs-method",
                        ),
                    ),
                    spacing="1",
                ),
                _terms(quote),
            ),
            rx.button("Place order", on_click=OrderState.place, id="place-order", size="3"),
            spacing="3",
            width="100%",
        ),
        max_width="560px",
        width="100%",
        id="order-quote",
    )


def _terms(quote) -> rx.Component:
    return rx.text(
        "The first period runs to your billing day and is prorated to the second; after that you are billed ",
        quote.recurring,
        rx.cond(
            quote.default_method != "",
            rx.fragment(
                ". Anything credit does not cover is charged to your default payment method (",
                quote.default_method,
                ").",
            ),
            ". Anything credit does not cover stays on the invoice: pay it from Billing "
            "with a card or any other way offered there.",
        ),
        size="2",
        color_scheme="gray",
    )


@area_page(
    Area.STOREFRONT, route=routes.ORDER, title="Order", on_load=[AuthState.require_customer, OrderState.load]
)
def order_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Your order", size="7"),
        rx.cond(
            AuthState.denied,
            not_allowed("Orders are placed from a customer account."),
        ),
        rx.cond(OrderState.error != "", rx.callout(OrderState.error, color_scheme="red", id="order-error")),
        rx.cond(OrderState.quote, _quote()),
        rx.link("Back to the plans", href=routes.HOME, size="2"),
        spacing="4",
        width="100%",
    )
