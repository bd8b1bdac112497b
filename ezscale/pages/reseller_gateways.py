"""Reseller area → Payment accounts: the reseller's own Stripe (Connect), PayPal and BTCPay accounts."""

import reflex as rx

from ezscale import routes
from ezscale.components.gateway_accounts import gateway_card, gateways_page
from ezscale.components.layout import Area, area_page
from ezscale.services.payments.gateway import GatewayName
from ezscale.state.reseller_gateways import ResellerGatewaysState as S

_NOTES = {
    GatewayName.PAYPAL: "Your PayPal REST app (client id and secret) and the id of your webhook to "
    "the address below.",
    GatewayName.BTCPAY: "Your BTCPay Server store: its https address, a Greenfield API key with invoice "
    "permissions and the secret of its webhook "
    "to the address below.",
}


def _stripe() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Card payments (Stripe)", size="4"),
                rx.badge(
                    rx.match(
                        S.stripe_state, ("connected", "Connected"), ("pending", "Onboarding"), "Not connected"
                    ),
                    color_scheme=rx.match(
                        S.stripe_state, ("connected", "green"), ("pending", "amber"), "gray"
                    ),
                    id="stripe-connect-state",
                ),
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


@area_page(
    Area.RESELLER, route=routes.RESELLER_GATEWAYS, title="Payment accounts", on_load=S.load, denied=S.denied
)
def page() -> rx.Component:
    return gateways_page(
        S,
        "Where your customers' money goes. Credentials are stored encrypted.",
        _stripe(),
        *[gateway_card(S, g, _NOTES[g], api_label="API address (https)") for g in _NOTES],
    )
