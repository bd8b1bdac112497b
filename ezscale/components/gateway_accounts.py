"""A tenant's payment gateway accounts as cards — the settings form (secrets never shown back),
switch on/off and a connection test — for any state built on `GatewayAccountsMixin` (the admin's
house site, a reseller's own accounts)."""

import reflex as rx

from ezscale.components.confirm import confirm
from ezscale.components.forms import error_callout
from ezscale.services.payments.accounts import FIELD_LABELS, FIELDS, SECRET_FIELDS
from ezscale.services.payments.gateway import LABELS, GatewayName


def _field(S, gateway: GatewayName, name: str, label: str) -> rx.Component:
    key = f"{gateway.value}.{name}"
    secret = name in SECRET_FIELDS
    return rx.vstack(
        rx.text(label, size="2"),
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


def _switch_off(S, gateway: GatewayName, warning: str) -> rx.Component:
    off, button_id = S.switch(gateway.value, False), f"{gateway.value}-off"
    if not warning:
        return rx.button("Switch off", variant="soft", on_click=off, id=button_id)
    return confirm(
        rx.button("Switch off", variant="soft", color_scheme="red", id=button_id),
        title=f"Switch {LABELS[gateway]} off?",
        warning=warning,
        confirm_label="Switch off",
        on_confirm=off,
    )


def gateway_card(
    S, gateway: GatewayName, note: str, *, api_label: str, off_warning: str = ""
) -> rx.Component:
    """One gateway: `note` on what it takes, its settings form, switch on/off (off asks first with
    `off_warning`) and a connection test."""
    on = S.enabled[gateway.value]
    form = rx.form(
        rx.vstack(
            rx.el.input(type="hidden", name="gateway", value=gateway.value),
            _field(S, gateway, "api_base", api_label),
            *[_field(S, gateway, name, FIELD_LABELS[name]) for name in FIELDS[gateway]],
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
            rx.text(note, size="2", color_scheme="gray"),
            rx.text(
                "Webhook address: ",
                rx.code(S.webhook_urls[gateway.value], id=f"{gateway.value}-webhook-url"),
                size="2",
                color_scheme="gray",
                word_break="break-all",
            )
            if FIELDS[gateway]
            else rx.fragment(),
            form if FIELDS[gateway] else rx.fragment(),
            rx.flex(
                rx.cond(
                    on,
                    _switch_off(S, gateway, off_warning),
                    rx.button("Switch on", on_click=S.switch(gateway.value, True), id=f"{gateway.value}-on"),
                ),
                rx.button(
                    "Test connection",
                    variant="soft",
                    on_click=S.test(gateway.value),
                    id=f"{gateway.value}-test",
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id=f"gateway-{gateway.value}",
    )


def gateways_page(S, intro: str, *cards: rx.Component) -> rx.Component:
    """The area's gateways page: `intro`, the last refusal, and the cards side by side where they fit."""
    return rx.vstack(
        rx.text(intro, size="2"),
        error_callout(S.error, "gateways-error"),
        rx.grid(*cards, columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%"),
        width="100%",
        spacing="4",
    )
