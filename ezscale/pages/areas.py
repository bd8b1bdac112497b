"""Entry pages of the customer and admin areas, each behind its own layout."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, shell
from ezscale.services.billing.orders import ServiceRow
from ezscale.state.admin_overview import AdminOverviewState
from ezscale.state.auth import AuthState
from ezscale.state.client import ClientState
from ezscale.state.site import SiteState


def _area_intro(title: str, body: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="7"),
        rx.callout(body, icon="lock", color_scheme="gray"),
        spacing="4",
    )


def _service_row(row: ServiceRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.label),
        rx.table.cell(row.plan),
        rx.table.cell(rx.badge(row.status), class_name="service-status"),
        rx.table.cell(row.since),
        custom_attrs={"data-service": row.id},
    )


def _services() -> rx.Component:
    return rx.vstack(
        rx.heading("Your services", size="5"),
        rx.cond(
            ClientState.services.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Service", "Plan", "Status", "Since")]
                    )
                ),
                rx.table.body(rx.foreach(ClientState.services, _service_row)),
                width="100%",
            ),
            rx.text(
                "No services yet. ",
                rx.link("Choose a plan", href=routes.HOME),
                " to order one.",
                color_scheme="gray",
            ),
        ),
        id="client-services",
        spacing="3",
        width="100%",
    )


def client() -> rx.Component:
    return shell(
        Area.CUSTOMER,
        rx.cond(
            AuthState.denied,
            rx.callout("Not allowed: this area is for customers.", color_scheme="red", id="not-allowed"),
            rx.vstack(
                _area_intro("Client area", "Your services, invoices and workspaces."),
                _services(),
                spacing="5",
                width="100%",
            ),
        ),
    )


_TONES = {"ok": "green", "warn": "amber", "bad": "red"}


def _health_card(figure: dict[str, str]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(figure["label"], size="2", color_scheme="gray"),
            rx.heading(figure["value"], size="6"),
            rx.text(
                figure["hint"],
                size="1",
                color_scheme=rx.match(figure["tone"], *_TONES.items(), "gray"),
            ),
            spacing="1",
        ),
        id="health-" + figure["id"],
        custom_attrs={"data-tone": figure["tone"]},
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


def admin() -> rx.Component:
    return shell(
        Area.ADMIN,
        rx.cond(
            SiteState.is_house & AuthState.signed_in & ~AuthState.denied,
            _health(),
            _area_intro("Not allowed", "The platform admin area is not available on this site."),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(
        client,
        route=routes.CLIENT,
        title="Client area",
        on_load=[AuthState.require_customer, ClientState.load],
    )
    app.add_page(admin, route=routes.ADMIN, title="Admin", on_load=AdminOverviewState.load)
