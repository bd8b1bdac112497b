"""The customer's workspaces: order form, live workspace cards, month usage and session history."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.empty import empty_state, list_or_empty
from ezscale.components.forms import dropdown
from ezscale.components.layout import Area, area_page
from ezscale.services.kasm.usage import RULE_TEXT
from ezscale.services.kasm.view import HistoryRow, Option, WorkspaceRow
from ezscale.state.auth import AuthState
from ezscale.state.kasm import KasmState

TICKER = "/kasm-ticker.js"

_STATUS_COLORS = {"running": "green", "provisioning": "amber", "starting": "amber", "failed": "red"}


def _option(option: Option) -> rx.Component:
    return rx.el.option(option.label, value=option.value)


def _order_form() -> rx.Component:
    select_style = {
        "padding": "8px",
        "width": "100%",
        "max_width": "100%",
        "text_overflow": "ellipsis",
    }
    return rx.card(
        rx.vstack(
            rx.heading("Order a workspace", size="4"),
            dropdown(
                rx.foreach(KasmState.type_options, _option),
                value=KasmState.plan_id,
                on_change=KasmState.set_plan,
                id="kasm-type",
                style=select_style,
            ),
            dropdown(
                rx.foreach(KasmState.template_options, _option),
                value=KasmState.template_id,
                on_change=KasmState.set_template,
                id="kasm-template",
                style=select_style,
            ),
            rx.button("Order workspace", on_click=KasmState.order, id="kasm-order"),
            rx.text(RULE_TEXT, size="1", color_scheme="gray", id="billing-rule"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _ticker(row: WorkspaceRow, field: str, text, test_id: str) -> rx.Component:
    return rx.el.span(
        text,
        id=f"{test_id}-{row.id}",
        custom_attrs={
            "data-kasm-start": row.started_ms,
            "data-kasm-field": field,
            "data-kasm-rate": row.rate_micro,
            "data-kasm-digits": row.digits,
            "data-kasm-symbol": row.symbol,
        },
    )


def _stop_button(row: WorkspaceRow) -> rx.Component:
    """Stopping a persistent workspace keeps its files; stopping an ephemeral one loses them, so
    that is confirmed first."""
    button = rx.button("Stop", color_scheme="amber", id=f"kasm-stop-{row.id}")
    return rx.cond(
        row.persistent,
        rx.button("Stop", on_click=KasmState.stop(row.id), color_scheme="amber", id=f"kasm-stop-{row.id}"),
        confirm(
            button,
            title=rx.text.span("Stop ", row.title, "?"),
            warning=(
                "This workspace does not keep its files: everything saved in it is lost when it stops. "
                "Download what you need first."
            ),
            confirm_label="Stop and lose files",
            on_confirm=KasmState.stop(row.id),
            dialog_id=f"kasm-stop-dialog-{row.id}",
        ),
    )


def _workspace(row: WorkspaceRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(row.title, size="4"),
                rx.spacer(),
                rx.badge(
                    row.status,
                    color_scheme=rx.match(row.status, *[(k, v) for k, v in _STATUS_COLORS.items()], "gray"),
                    id=f"kasm-status-{row.id}",
                    size="2",
                ),
                width="100%",
            ),
            rx.text(row.size, " · ", row.rate, size="2", color_scheme="gray"),
            rx.cond(row.reason != "", rx.text(row.reason, size="2", color_scheme="red")),
            rx.cond(
                row.status == "running",
                rx.hstack(
                    rx.text(_ticker(row, "timer", row.running, "kasm-timer"), weight="medium"),
                    rx.text("·"),
                    rx.text(_ticker(row, "cost", row.cost, "kasm-cost"), weight="bold"),
                    spacing="2",
                ),
            ),
            rx.hstack(
                rx.cond(
                    row.status == "running",
                    rx.hstack(
                        rx.button("Open workspace", on_click=KasmState.open_workspace(row.id)),
                        _stop_button(row),
                    ),
                ),
                rx.cond(
                    row.status == "stopped",
                    rx.button("Start", on_click=KasmState.start(row.id), id=f"kasm-start-{row.id}"),
                ),
                confirm(
                    rx.button("Terminate", variant="soft", color_scheme="red", id=f"kasm-terminate-{row.id}"),
                    title=rx.text.span("Terminate ", row.title, "?"),
                    warning=(
                        "The workspace and every file in it are deleted for good; this cannot be undone. "
                        "Time it ran until now is billed."
                    ),
                    confirm_label="Terminate workspace",
                    on_confirm=KasmState.terminate(row.id),
                    dialog_id=f"kasm-terminate-dialog-{row.id}",
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
        ),
        width="100%",
        custom_attrs={"data-workspace-id": row.id, "data-status": row.status},
        class_name="kasm-workspace",
    )


def _history_row(row: HistoryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.workspace),
        rx.table.cell(row.started),
        rx.table.cell(row.duration),
        rx.table.cell(row.billable),
        rx.table.cell(row.cost, class_name="kasm-history-cost"),
        rx.table.cell(row.reason),
        custom_attrs={"data-session-id": row.id},
    )


def _history() -> rx.Component:
    empty = empty_state(
        "No workspace sessions yet: order a workspace above; each time it runs, its time and cost show here.",
        empty_id="no-sessions",
    )
    return list_or_empty(KasmState.history, _history_table(), empty)


def _history_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(h)
                    for h in ("Workspace", "Started (UTC)", "Ran", "Billed", "Cost", "Ended")
                ]
            )
        ),
        rx.table.body(rx.foreach(KasmState.history, _history_row)),
        id="kasm-history",
        width="100%",
    )


@area_page(
    Area.CUSTOMER,
    route=routes.CLIENT_WORKSPACES,
    title="Workspaces",
    on_load=[AuthState.require_customer, KasmState.load],
)
@area_page(
    Area.CUSTOMER,
    route=routes.CLIENT_WORKSPACES_LAUNCH,
    title="Workspaces",
    on_load=[AuthState.require_customer, KasmState.load],
)
def workspaces_page() -> rx.Component:
    return rx.vstack(
        rx.script(src=TICKER),
        rx.el.div(id="kasm-clock", custom_attrs={"data-server-now": KasmState.server_now_ms}),
        rx.hstack(
            rx.heading("Workspaces", size="7"),
            rx.spacer(),
            rx.text("Credit: ", KasmState.balance, id="kasm-balance"),
            width="100%",
            align="center",
        ),
        rx.text(KasmState.month, id="kasm-month", weight="medium"),
        rx.foreach(
            KasmState.notices,
            lambda n: rx.callout(n, icon="triangle_alert", color_scheme="amber", class_name="kasm-notice"),
        ),
        rx.cond(
            KasmState.error != "",
            rx.callout(KasmState.error, icon="circle_alert", color_scheme="red", id="kasm-error"),
        ),
        rx.grid(
            rx.vstack(rx.foreach(KasmState.workspaces, _workspace), width="100%", id="kasm-workspaces"),
            _order_form(),
            columns=rx.breakpoints(initial="1", md="2fr 1fr"),
            spacing="5",
            width="100%",
        ),
        rx.heading("Session history", size="5"),
        _history(),
        spacing="4",
        width="100%",
    )
