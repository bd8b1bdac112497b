"""The platform admin area's entry page: live platform health across every tenant.

Only the house site's signed-in admins see it; on any other site the area is not available.
"""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_intro, area_page
from ezscale.services.analytics.platform_health import Figure
from ezscale.state.admin_overview import AdminOverviewState
from ezscale.state.auth import AuthState
from ezscale.state.site import SiteState

_TONES = {"ok": "green", "warn": "amber", "bad": "red"}


def _health_card(figure: Figure) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(figure.label, size="2", color_scheme="gray"),
            rx.heading(figure.value, size="6"),
            rx.text(
                figure.hint,
                size="1",
                color_scheme=rx.match(figure.tone, *_TONES.items(), "gray"),
            ),
            spacing="1",
        ),
        id="health-" + figure.id,
        custom_attrs={"data-tone": figure.tone},
    )


def _health() -> rx.Component:
    return rx.vstack(
        rx.heading("Platform health", size="7"),
        rx.text("Live across every tenant; MRR from the last analytics snapshot.", color_scheme="gray"),
        rx.grid(
            rx.foreach(AdminOverviewState.health, _health_card),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            width="100%",
            id="platform-health",
        ),
        rx.hstack(
            rx.link("Analytics", href=routes.ADMIN_ANALYTICS),
            rx.link("Alerts", href=routes.ADMIN_ALERTS),
            rx.link("Customers", href=routes.ADMIN_CUSTOMERS),
            spacing="4",
            wrap="wrap",
        ),
        spacing="4",
        width="100%",
    )


@area_page(Area.ADMIN, route=routes.ADMIN, title="Admin", on_load=AdminOverviewState.load)
def admin() -> rx.Component:
    return rx.cond(
        SiteState.is_house & AuthState.signed_in & ~AuthState.denied,
        _health(),
        area_intro("Not allowed", "The platform admin area is not available on this site."),
    )
