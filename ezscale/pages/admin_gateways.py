"""Platform admin → Gateways: Stripe, PayPal and BTCPay for the house site."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.layout import Area, area_page
from ezscale.services.payments.accounts import FIELDS, SECRET_FIELDS
from ezscale.services.payments.gateway import LABELS, GatewayName
from ezscale.state.admin_gateways import AdminGatewaysState as S

_NOTES = {
    GatewayName.STRIPE: "Cards, with the platform's Stripe keys from the environment.",
    GatewayName.PAYPAL: "PayPal checkout and saved PayPal for renewals (REST app credentials; the webhook id "
    "of this site's webhook, /webhooks/paypal/<site id>).",
    GatewayName.BTCPAY: "Bitcoin through your BTCPay Server store (Greenfield API key with invoice "
    "permissions; the webhook secret of /webhooks/btcpay/<site id>).",
}


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
    switch_off = confirm(
        rx.button("Switch off", variant="soft", color_scheme="red", id=f"{gateway.value}-off"),
        title=f"Switch {LABELS[gateway]} off?",
        warning="Customers can no longer choose it; saved PayPal wallets are not charged while it is off.",
        confirm_label="Switch off",
        on_confirm=S.switch(gateway.value, False),
    )
    form = rx.form(
        rx.vstack(
            rx.el.input(type="hidden", name="gateway", value=gateway.value),
            rx.vstack(
                rx.text("API address", size="2"),
                rx.input(
                    name="api_base",
                    default_value=S.values[f"{gateway.value}.api_base"],
                    id=f"{gateway.value}-api_base",
                    width="100%",
                ),
                spacing="1",
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
            form if FIELDS[gateway] else rx.fragment(),
            rx.flex(
                rx.cond(
                    on,
                    switch_off,
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


@area_page(Area.ADMIN, route=routes.ADMIN_GATEWAYS, title="Gateways", on_load=S.load, denied=S.denied)
def page() -> rx.Component:
    return rx.vstack(
        rx.text("How customers of this site can pay. Credentials are stored encrypted.", size="2"),
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", id="gateways-error")),
        rx.grid(
            *[_gateway(g) for g in GatewayName],
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
        ),
        width="100%",
        spacing="4",
    )
