"""Platform admin → Gateways: Stripe, PayPal and BTCPay for the house site."""

import reflex as rx

from ezscale import routes
from ezscale.components.gateway_accounts import gateway_card, gateways_page
from ezscale.components.layout import Area, area_page
from ezscale.services.payments.gateway import GatewayName
from ezscale.state.admin_gateways import AdminGatewaysState as S

_NOTES = {
    GatewayName.STRIPE: "Cards, with the platform's Stripe keys from the environment.",
    GatewayName.PAYPAL: "PayPal checkout and saved PayPal for renewals (REST app credentials; the id of "
    "the webhook to the address below).",
    GatewayName.BTCPAY: "Bitcoin through your BTCPay Server store (Greenfield API key with invoice "
    "permissions; the secret of its webhook "
    "to the address below).",
}
_OFF = "Customers can no longer choose it; saved PayPal wallets are not charged while it is off."


@area_page(Area.ADMIN, route=routes.ADMIN_GATEWAYS, title="Gateways", on_load=S.load, denied=S.denied)
def page() -> rx.Component:
    return gateways_page(
        S,
        "How customers of this site can pay. Credentials are stored encrypted.",
        *[gateway_card(S, g, _NOTES[g], api_label="API address", off_warning=_OFF) for g in GatewayName],
    )
