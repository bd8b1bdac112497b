"""Entry pages of the customer and admin areas, each behind its own layout."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, shell
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
        _area_intro("Client area", "Sign in to see your services, invoices and workspaces."),
    )


def admin() -> rx.Component:
    return shell(
        Area.ADMIN,
        rx.cond(
            SiteState.is_house,
            _area_intro("Platform admin", "Sign in as a platform admin with a second factor."),
            _area_intro("Not allowed", "The platform admin area is not available on this site."),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(client, route=routes.CLIENT, title="Client area", on_load=SiteState.load_site)
    app.add_page(admin, route=routes.ADMIN, title="Admin", on_load=SiteState.load_site)
