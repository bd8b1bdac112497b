"""Reseller area → Payment accounts: the reseller's own Stripe (Connect), PayPal and BTCPay accounts."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import error_callout
from ezscale.components.layout import Area, area_page
from ezscale.services.payments.accounts import FIELDS, SECRET_FIELDS
from ezscale.services.payments.gateway import LABELS, GatewayName
from ezscale.state.reseller_gateways import ResellerGatewaysState as S

_NOTES = {
    GatewayName.PAYPAL: "Your PayPal REST app (client id and secret) and the id of your webhook to "
    "/webhooks/paypal/<site id>.",
    GatewayName.BTCPAY: "Your BTCPay Server store: its https address, a Greenfield API key with invoice "
    "permissions and the webhook secret of /webhooks/btcpay/<site id>.",
}


def _stripe() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Card payments (Stripe)", size="4"),
                rx.badge(S.stripe_state, id="stripe-connect-state"),
                align="center",
            ),
            rx.text(S.stripe_text, size="2", id="stripe-connect-text"),
            rx.cond(
                S.stripe_account != "", rx.text("Account: ", S.stripe_account, size="1", color_scheme="gray")
            ),
            rx.text(
                "Card payments are taken on your own Stripe account; the platform takes no fee from them.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                S.stripe_state != "connected",
                rx.button("Connect with Stripe", on_click=S.connect_stripe, id="connect-stripe"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="gateway-stripe",
    )


def _field(gateway: GatewayName, name: str) -> rx.Component:
    key = f"{gateway.value}.{name}"
    secret = name in SECRET_FIELDS
    return rx.vstack(
        rx.text(name.replace("_", " ").capitalize(), size="2"),
        rx.input(
            name=name,
            type="password" if secret else "text",
            default_value="" if secret else S.values[key],
            placeholder=rx.cond(S.secrets_set[key], "set: leave blank to keep", "") if secret else "",
            id=f"{gateway.value}-{name}",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _gateway(gateway: GatewayName) -> rx.Component:
    on = S.enabled[gateway.value]
    form = rx.form(
        rx.vstack(
            rx.el.input(type="hidden", name="gateway", value=gateway.value),
            rx.text("API address (https)", size="2"),
            rx.input(
                name="api_base",
                default_value=S.values[f"{gateway.value}.api_base"],
                id=f"{gateway.value}-api_base",
                width="100%",
            ),
            *[_field(gateway, name) for name in FIELDS[gateway]],
            rx.button("Save", type="submit", id=f"{gateway.value}-save"),
            spacing="2",
            width="100%",
        ),
        on_submit=S.save,
        reset_on_submit=False,
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(LABELS[gateway], size="4"),
                rx.cond(on, rx.badge("on", color_scheme="green"), rx.badge("off", color_scheme="gray")),
                align="center",
            ),
            rx.text(_NOTES[gateway], size="2", color_scheme="gray"),
            form,
            rx.flex(
                rx.cond(
                    on,
                    rx.button("Switch off", variant="soft", on_click=S.switch(gateway.value, False)),
                    rx.button("Switch on", on_click=S.switch(gateway.value, True), id=f"{gateway.value}-on"),
                ),
                rx.button(
                    "Test connection",
                    variant="soft",
                    on_click=S.test(gateway.value),
                    id=f"{gateway.value}-test",
                ),
                gap="2",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id=f"gateway-{gateway.value}",
    )


@area_page(
    Area.RESELLER, route=routes.RESELLER_GATEWAYS, title="Payment accounts", on_load=S.load, denied=S.denied
)
def page() -> rx.Component:
    return rx.vstack(
        rx.text("Where your customers' money goes. Credentials are stored encrypted.", size="2"),
        error_callout(S.error, "gateways-error"),
        rx.grid(
            _stripe(),
            _gateway(GatewayName.PAYPAL),
            _gateway(GatewayName.BTCPAY),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
        ),
        width="100%",
        spacing="4",
    )
