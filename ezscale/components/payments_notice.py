"""The "your customers cannot pay yet" banner for a reseller's owner and staff."""

import reflex as rx

from ezscale import routes
from ezscale.state.payments_notice import PaymentsNoticeState


def payments_notice() -> rx.Component:
    """Shown only to the reseller's own signed-in people while no payment account can charge."""
    return rx.cond(
        PaymentsNoticeState.payments_off,
        rx.callout(
            rx.text(
                "Your customers cannot pay yet: ",
                rx.link("connect your payment account", href=routes.RESELLER_GATEWAYS),
                ". Until then they see “Payments are not available yet”.",
            ),
            color_scheme="amber",
            width="100%",
            id="payments-notice",
        ),
    )
