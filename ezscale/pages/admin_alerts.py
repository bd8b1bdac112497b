"""Platform admin → Alerts."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_page
from ezscale.state.admin_alerts import AdminAlertsState as S

_LABELS = (
    ("provisioning_failures", "Provisioning failures (e.g. a Kasm workspace that cannot be created)"),
    ("payment_failures", "Payment failures, once the threshold below is reached in 24 hours"),
    ("billing_run_errors", "Billing run errors"),
)


def _switch(name: str, label: str) -> rx.Component:
    return rx.checkbox(
        label,
        checked=S.switches[name],
        on_change=lambda v: S.set_switch(name, v),
        id=f"alert-{name}",
    )


def _settings() -> rx.Component:
    return rx.vstack(
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", id="alerts-error")),
        rx.card(
            rx.vstack(
                rx.heading("Alert on", size="3"),
                *[_switch(name, label) for name, label in _LABELS],
                rx.hstack(
                    rx.text("Payment failure threshold"),
                    rx.input(
                        value=S.threshold, on_change=S.set_threshold, width="80px", id="alert-threshold"
                    ),
                    align="center",
                ),
                rx.button("Save", on_click=S.save, id="alerts-save"),
                rx.cond(S.updated != "", rx.text("Last changed ", S.updated, size="1", color_scheme="gray")),
                spacing="3",
            )
        ),
        rx.card(
            rx.vstack(
                rx.heading("Channels", size="3"),
                rx.text("Set by ALERT_DISCORD_WEBHOOK_URL and ALERT_EMAIL in the environment.", size="2"),
                rx.foreach(S.channel_rows, lambda c: rx.text(rx.text.strong(c.kind), ": ", c.target)),
                rx.cond(
                    S.channel_rows.length() == 0, rx.callout("No channel configured: alerts are only logged.")
                ),
                rx.button("Send a test alert", on_click=S.test_alert, variant="soft", id="alerts-test"),
                spacing="2",
            )
        ),
        width="100%",
        spacing="4",
    )


@area_page(Area.ADMIN, route=routes.ADMIN_ALERTS, title="Alerts", on_load=S.load, denied=S.denied)
def page() -> rx.Component:
    return _settings()
