"""The customer area's entry page: the signed-in customer's services."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_intro, area_page
from ezscale.services.billing.orders import ServiceRow
from ezscale.state.auth import AuthState
from ezscale.state.client import ClientState


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


@area_page(
    Area.CUSTOMER,
    route=routes.CLIENT,
    title="Client area",
    on_load=[AuthState.require_customer, ClientState.load],
    denied=AuthState.denied,
    heading="",
    message="Not allowed: this area is for customers.",
)
def client() -> rx.Component:
    return rx.vstack(
        area_intro("Client area", "Your services, invoices and workspaces."),
        _services(),
        spacing="5",
        width="100%",
    )
