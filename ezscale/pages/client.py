"""The customer area's entry page: services (each opens its page), workspaces, open invoices,
credit and recent activity, each with an empty state that says what to do next."""

import reflex as rx

from ezscale import routes
from ezscale.components.empty import empty_state, list_or_empty
from ezscale.components.layout import Area, area_intro, area_page
from ezscale.components.tables import cell_table
from ezscale.services.billing.views import InvoiceRow
from ezscale.services.provisioning.view import ActivityRow, ServiceSummaryRow, WorkspaceSummaryRow
from ezscale.state.auth import AuthState
from ezscale.state.client import ClientState as C


def _service_cells(row: ServiceSummaryRow) -> list[rx.Component]:
    return [
        rx.table.cell(rx.link(row.label, href=row.href, weight="medium", class_name="service-link")),
        rx.table.cell(row.plan),
        rx.table.cell(rx.badge(row.status), class_name="service-status"),
        rx.table.cell(row.price, class_name="service-price"),
        rx.table.cell(row.next_due, class_name="service-due"),
    ]


def _services() -> rx.Component:
    listing = cell_table(
        ["Service", "Plan", "Status", "Price", "Next due"], C.services, _service_cells, "client-services"
    )
    empty = empty_state(
        "You have no servers or hosting yet.", "Choose a plan", routes.HOME, empty_id="client-services-empty"
    )
    return rx.vstack(
        rx.heading("Your services", size="5"), list_or_empty(C.services, listing, empty), width="100%"
    )


def _workspace(row: WorkspaceSummaryRow) -> rx.Component:
    return rx.hstack(
        rx.text(row.title), rx.spacer(), rx.badge(row.status), width="100%", class_name="workspace"
    )


def _workspaces() -> rx.Component:
    listing = rx.vstack(
        rx.foreach(C.workspaces, _workspace),
        rx.link("Open workspaces", href=routes.CLIENT_WORKSPACES, size="2"),
        width="100%",
    )
    empty = empty_state(
        "No cloud workspaces.", "Launch one", routes.CLIENT_WORKSPACES, empty_id="client-workspaces-empty"
    )
    return rx.card(
        rx.vstack(
            rx.heading("Workspaces", size="4"), list_or_empty(C.workspaces, listing, empty), width="100%"
        ),
        id="client-workspaces",
        width="100%",
    )


def _invoice(row: InvoiceRow) -> rx.Component:
    return rx.hstack(
        rx.link(row.number, href=routes.invoice_path(row.id)),
        rx.spacer(),
        rx.text(row.amount_due, weight="medium"),
        rx.text("due ", row.due, size="2", color_scheme="gray"),
        width="100%",
        wrap="wrap",
        class_name="open-invoice",
    )


def _money() -> rx.Component:
    invoices = rx.vstack(rx.foreach(C.open_invoices, _invoice), width="100%")
    paid_up = rx.text(
        "No open invoices: you are all paid up.", size="2", color_scheme="gray", id="no-open-invoices"
    )
    return rx.card(
        rx.vstack(
            rx.heading("Billing", size="4"),
            rx.text("Account credit: ", rx.el.span(C.balance, id="client-balance", font_weight="bold")),
            list_or_empty(C.open_invoices, invoices, paid_up),
            rx.link("Invoices, cards and credit", href=routes.CLIENT_BILLING, size="2"),
            width="100%",
        ),
        id="client-billing",
        width="100%",
    )


def _activity_row(row: ActivityRow) -> rx.Component:
    return rx.hstack(
        rx.text(row.when, size="1", color_scheme="gray", white_space="nowrap"),
        rx.text(row.message, size="2"),
        align="baseline",
        width="100%",
        wrap="wrap",
    )


def _activity() -> rx.Component:
    rows = rx.vstack(rx.foreach(C.activity, _activity_row), spacing="2", width="100%")
    none = rx.text("Nothing yet: orders, payments and changes appear here.", size="2", color_scheme="gray")
    return rx.card(
        rx.vstack(
            rx.heading("Recent activity", size="4"), list_or_empty(C.activity, rows, none), width="100%"
        ),
        id="client-activity",
        width="100%",
    )


@area_page(
    Area.CUSTOMER,
    route=routes.CLIENT,
    title="Client area",
    on_load=[AuthState.require_customer, C.load],
    denied=AuthState.denied,
    heading="",
    message="Not allowed: this area is for customers.",
)
def client() -> rx.Component:
    return rx.vstack(
        area_intro("Client area", "Your services, invoices and workspaces."),
        _services(),
        rx.grid(
            _money(),
            _workspaces(),
            _activity(),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
        ),
        spacing="5",
        width="100%",
    )
