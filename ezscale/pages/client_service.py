"""The customer's page of one service: status (live), details, access (credentials on demand,
one-click panel sign-in), power and reinstall with confirmation, usage, plan change with its
prorated quote, cancellation with the credit rule, and the service's invoices. Only the actions
the service's panel module offers are shown."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.layout import Area, area_page
from ezscale.components.tables import cell_table
from ezscale.services.billing.views import InvoiceRow
from ezscale.services.provisioning.module import OsChoice
from ezscale.services.provisioning.plan_change_view import PlanChoiceRow
from ezscale.services.provisioning.view import PowerButton, UsageRow
from ezscale.state.auth import AuthState
from ezscale.state.client_service import ServiceState as S
from ezscale.state.client_service_plan import ServicePlanState as PS

P = S.page


def _has(capability: str) -> rx.Var:
    return P.capabilities.contains(capability)


def _removal() -> rx.Component:
    """How far a terminated service's removal from its panel got, updated live."""
    return rx.match(
        P.removal,
        (
            "removing",
            rx.hstack(rx.spinner(size="1"), rx.text("Removing from the panel…"), id="service-removal"),
        ),
        ("removed", rx.text("Removed from the panel.", id="service-removal")),
        ("failed", rx.text("Removal is being retried; our team has been alerted.", id="service-removal")),
        rx.fragment(),
    )


def _status() -> rx.Component:
    return rx.match(
        P.status,
        (
            "pending",
            rx.cond(
                P.queued,
                rx.callout(
                    rx.hstack(
                        rx.spinner(size="1"),
                        rx.text("Paid: your server is queued to be built. This page updates by itself."),
                    ),
                    color_scheme="blue",
                    id="service-state-note",
                ),
                rx.callout(
                    "Waiting for payment: the service is built once its invoice is paid.",
                    icon="clock",
                    id="service-state-note",
                ),
            ),
        ),
        (
            "provisioning",
            rx.callout(
                rx.hstack(
                    rx.spinner(size="1"), rx.text("Your server is being built. This page updates by itself.")
                ),
                color_scheme="blue",
                id="service-state-note",
            ),
        ),
        (
            "suspended",
            rx.callout(
                rx.text("Suspended: ", P.status_reason, ". Pay the open invoice to restore it."),
                color_scheme="orange",
                id="service-state-note",
            ),
        ),
        (
            "terminated",
            rx.callout(
                rx.vstack(rx.text("Terminated (", P.status_reason, ")."), _removal(), spacing="1"),
                color_scheme=rx.cond(P.removal == "failed", "orange", "gray"),
                id="service-state-note",
            ),
        ),
        (
            "failed",
            rx.callout(
                rx.text("We could not build this service: ", P.status_reason, ". Support has been told."),
                color_scheme="red",
                id="service-state-note",
            ),
        ),
        rx.fragment(),
    )


def _details() -> rx.Component:
    items = [
        ("Plan", P.plan, "service-plan"),
        ("Price", P.price, "service-price"),
        ("Next due", P.next_due, "service-next-due"),
        ("Hostname", P.hostname, "service-hostname"),
        ("IP addresses", P.ips, "service-ips"),
        ("Ports", P.ports, "service-ports"),
    ]
    return rx.card(
        rx.data_list.root(
            *[
                rx.data_list.item(
                    rx.data_list.label(label),
                    rx.data_list.value(rx.text(rx.cond(value != "", value, "—"), id=test_id)),
                )
                for label, value, test_id in items
            ],
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        ),
        id="service-details",
        width="100%",
    )


def _access() -> rx.Component:
    login = rx.cond(
        S.login,
        rx.vstack(
            rx.text("Username ", rx.code(S.login.username, id="login-username")),
            rx.cond(
                S.login.password != "",
                rx.text("Password ", rx.code(S.login.password, id="login-password")),
                rx.text(
                    "No password is kept here: the panel sent it to you by e-mail.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.cond(
                S.login.sftp_user != "",
                rx.vstack(
                    rx.text("SFTP ", rx.code(S.login.sftp_address, id="login-sftp-address")),
                    rx.text("SFTP user ", rx.code(S.login.sftp_user, id="login-sftp-user")),
                    rx.text("Sign in to SFTP with the panel password.", size="2", color_scheme="gray"),
                    spacing="2",
                ),
            ),
            rx.button("Hide", size="1", variant="soft", on_click=S.hide, id="hide-login"),
            spacing="2",
        ),
        rx.button("Show login details", variant="soft", on_click=S.reveal, id="reveal-login"),
    )
    return rx.card(
        rx.vstack(
            rx.heading("Access", size="4"),
            rx.cond(P.has_login, login, rx.text("No login details for this service.", size="2")),
            rx.cond(
                _has("sso"),
                rx.button(
                    "Open control panel",
                    on_click=S.open_panel,
                    loading=S.busy,
                    id="open-panel",
                ),
            ),
            spacing="3",
        ),
        width="100%",
        id="service-access",
    )


def _power_button(button: PowerButton) -> rx.Component:
    return confirm(
        rx.button(button.label, variant="soft", disabled=S.busy, id=f"power-{button.action}"),
        title=rx.text.span(button.label, " ", P.label, "?"),
        warning=button.warning,
        confirm_label=button.label,
        on_confirm=S.power(button.action),  # type: ignore[misc]  # background handler, see pyproject
        dialog_id=f"power-dialog-{button.action}",
    )


def _power() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Power", size="4"),
            rx.flex(rx.foreach(P.power, _power_button), spacing="2", wrap="wrap"),
            spacing="3",
        ),
        width="100%",
        id="service-power",
    )


def _os_item(choice: OsChoice) -> rx.Component:
    return rx.select.item(choice.name, value=choice.id)


def _reinstall() -> rx.Component:
    chooser = rx.vstack(
        rx.select.root(
            rx.select.trigger(placeholder="Operating system", id="os-select"),
            rx.select.content(rx.foreach(S.os_options, _os_item)),
            value=S.os_choice,
            on_change=S.set_os_choice,
        ),
        confirm(
            rx.button(
                "Reinstall", color_scheme="red", variant="soft", disabled=S.os_choice == "", id="reinstall"
            ),
            title="Reinstall the server?",
            warning="Everything on the server's disk is erased and the chosen system installed; a new "
            "password is set. This cannot be undone.",
            confirm_label="Erase and reinstall",
            on_confirm=S.reinstall,
            dialog_id="reinstall-dialog",
        ),
        spacing="2",
    )
    return rx.card(
        rx.vstack(
            rx.heading("Reinstall", size="4"),
            rx.cond(
                S.os_options.length() > 0,
                chooser,
                rx.button("Choose a system", variant="soft", on_click=S.load_os, id="load-os"),
            ),
            spacing="3",
        ),
        width="100%",
        id="service-reinstall",
    )


def _usage_row(row: UsageRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text(row.label, size="2"), rx.spacer(), rx.text(row.text, size="2"), width="100%"),
        rx.progress(value=row.percent, width="100%"),
        width="100%",
        spacing="1",
    )


def _usage() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Usage", size="4"),
            rx.foreach(S.usage, _usage_row),
            rx.cond(
                S.usage.length() > 0,
                rx.button("Refresh usage", variant="soft", size="1", on_click=S.load_usage, id="load-usage"),
                rx.button("Show usage", variant="soft", size="1", on_click=S.load_usage, id="load-usage"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="service-usage",
    )


def _plan_item(plan: PlanChoiceRow) -> rx.Component:
    return rx.select.item(plan.label, value=plan.id.to_string())


def _plan_change() -> rx.Component:
    quote = rx.vstack(
        rx.text(PS.quote.credit, size="2"),
        rx.text(PS.quote.charge, size="2"),
        rx.text(PS.quote.outcome, weight="bold", id="quote-outcome"),
        confirm(
            rx.button("Change plan", id="change-plan"),
            title=rx.text.span("Move to ", PS.quote.to_plan, "?"),
            warning=rx.text.span(
                PS.quote.outcome,
                ". Credit pays first, then your default card; the server moves to the "
                "new plan once it is paid.",
            ),
            confirm_label="Change plan",
            on_confirm=PS.change_plan,
            dialog_id="change-plan-dialog",
        ),
        spacing="2",
        id="plan-quote",
    )
    return rx.card(
        rx.vstack(
            rx.heading("Change plan", size="4"),
            rx.select.root(
                rx.select.trigger(placeholder="Choose a plan", id="plan-select"),
                rx.select.content(rx.foreach(PS.plans, _plan_item)),
                value=PS.plan_choice,
                on_change=PS.choose_plan,
            ),
            rx.cond(PS.quote, quote),
            spacing="3",
        ),
        width="100%",
        id="service-plan-change",
    )


def _cancel() -> rx.Component:
    at_end = confirm(
        rx.button("Cancel at period end", variant="soft", color_scheme="red", id="cancel-at-end"),
        title="Cancel at the end of the period?",
        warning=rx.text.span("The service keeps running until ", P.period_end, ", then it is removed."),
        confirm_label="Cancel at period end",
        on_confirm=PS.cancel(False),
        dialog_id="cancel-at-end-dialog",
    )
    now = confirm(
        rx.button("Cancel now", color_scheme="red", id="cancel-now"),
        title="Cancel and remove it now?",
        warning="The server and all its data are deleted now. "
        "The unused part of this period is not credited.",
        confirm_label="Cancel and delete now",
        on_confirm=PS.cancel(True),
        dialog_id="cancel-now-dialog",
    )
    return rx.card(
        rx.vstack(
            rx.heading("Cancel", size="4"),
            rx.cond(
                P.cancels_at != "",
                rx.text("Cancelled: runs until ", P.cancels_at, ".", id="cancels-at"),
                rx.text(PS.cancel_rule, size="2", color_scheme="gray", id="cancel-rule"),
            ),
            rx.flex(rx.cond(P.cancels_at == "", at_end), now, spacing="2", wrap="wrap"),
            spacing="3",
        ),
        width="100%",
        id="service-cancel",
    )


def _invoice_cells(row: InvoiceRow) -> list[rx.Component]:
    return [
        rx.table.cell(rx.link(row.number, href=routes.CLIENT_BILLING + "?invoice=" + row.id.to_string())),
        rx.table.cell(row.status),
        rx.table.cell(row.issued),
        rx.table.cell(row.total),
    ]


def _body() -> rx.Component:
    active = P.status == "active"
    return rx.vstack(
        rx.hstack(
            rx.heading(P.label, size="7", id="service-label"),
            rx.badge(P.status, size="2", id="service-status"),
            align="center",
            wrap="wrap",
        ),
        rx.text(P.kind, color_scheme="gray", size="2"),
        _status(),
        rx.cond(S.message != "", rx.callout(S.message, color_scheme="green", id="service-message")),
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", id="service-error")),
        _details(),
        rx.grid(
            rx.cond(P.status != "terminated", _access()),
            rx.cond(active & _has("power"), _power()),
            rx.cond(active & _has("usage"), _usage()),
            rx.cond(active & _has("reinstall"), _reinstall()),
            rx.cond(active & P.cancellable & (PS.plans.length() > 0), _plan_change()),
            rx.cond(P.cancellable | (P.cancels_at != ""), _cancel()),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.heading("Invoices", size="5"),
        cell_table(
            ["Invoice", "Status", "Issued", "Total"],
            S.invoices,
            _invoice_cells,
            "service-invoices",
            empty="No invoices for this service yet.",
        ),
        spacing="4",
        width="100%",
        on_unmount=S.stop_watch,
    )


@area_page(
    Area.CUSTOMER,
    route=routes.CLIENT_SERVICE,
    title="Service",
    on_load=[AuthState.require_customer, S.load, PS.load_plans],
    denied=AuthState.denied,
    heading="",
    message="Not allowed: this area is for customers.",
)
def client_service() -> rx.Component:
    return rx.vstack(
        rx.link("← Your services", href=routes.CLIENT, size="2"),
        rx.cond(
            S.page,
            _body(),
            rx.cond(
                S.error != "",
                rx.callout(S.error, color_scheme="red", id="service-error"),
                rx.center(rx.spinner(size="3"), width="100%"),
            ),
        ),
        spacing="4",
        width="100%",
        on_unmount=S.stop_watch,
    )
