"""Entry pages of the customer and admin areas, each behind its own layout."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, shell
from ezscale.state.auth import AuthState
from ezscale.state.site import SiteState


def _area_intro(title: str, body: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="7"),
        rx.callout(body, icon="lock", color_scheme="gray"),
        spacing="4",
    )


def client() -> rx.Component:
    return shell(
        Area.CUSTOMER,
        rx.cond(
            AuthState.denied,
            rx.callout("Not allowed: this area is for customers.", color_scheme="red", id="not-allowed"),
            _area_intro("Client area", "Your services, invoices and workspaces."),
        ),
    )


def admin() -> rx.Component:
    return shell(
        Area.ADMIN,
        rx.cond(
            SiteState.is_house & AuthState.signed_in & ~AuthState.denied,
            _area_intro("Platform admin", "Signed in with a second factor. Choose a section above."),
            _area_intro("Not allowed", "The platform admin area is not available on this site."),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(client, route=routes.CLIENT, title="Client area", on_load=AuthState.require_customer)
    app.add_page(admin, route=routes.ADMIN, title="Admin", on_load=AuthState.require_admin)
