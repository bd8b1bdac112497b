"""Platform admin → Panels: the provisioning panels (add, edit, enable, test the connection;
credentials are write-only), each plan's module and package, and the failure-refund setting."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.empty import empty_state
from ezscale.components.forms import dropdown
from ezscale.components.layout import Area, area_page
from ezscale.components.tables import cell_table
from ezscale.services.provisioning.admin_view import MappingView, PanelView
from ezscale.state.admin_panels import AdminPanelsState as S

_FULL_WIDTH = {"width": "100%"}


def _labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), control, spacing="1", width="100%")


def _panel_input(label: str, field: str, **props) -> rx.Component:
    return _labelled(
        label,
        rx.input(
            value=S.panel_form[field],
            on_change=lambda v: S.set_panel_field(field, v),
            id=f"panel-form-{field}",
            width="100%",
            **props,
        ),
    )


def _panel_form() -> rx.Component:
    module = _labelled(
        "Module",
        dropdown(
            rx.el.option("Choose…", value=""),
            rx.foreach(S.modules, lambda m: rx.el.option(m.label, value=m.name)),
            value=S.panel_form["module"],
            on_change=lambda v: S.set_panel_field("module", v),
            disabled=S.editing != "",
            id="panel-form-module",
            style=_FULL_WIDTH,
        ),
    )
    credentials = _labelled(
        rx.cond(
            S.editing != "",
            "Credentials (name=value per line; leave empty to keep the stored ones)",
            "Credentials (name=value per line, e.g. token=…)",
        ),
        rx.text_area(
            value=S.panel_form["credentials"],
            on_change=lambda v: S.set_panel_field("credentials", v),
            placeholder="token=…",
            id="panel-form-credentials",
            width="100%",
        ),
    )
    options = _labelled(
        "Options (name=value per line)",
        rx.text_area(
            value=S.panel_form["options"],
            on_change=lambda v: S.set_panel_field("options", v),
            id="panel-form-options",
            width="100%",
        ),
    )
    return rx.card(
        rx.vstack(
            rx.heading(
                rx.cond(S.editing != "", "Edit panel", "Add a panel"), size="4", id="panel-form-title"
            ),
            rx.grid(
                module,
                _panel_input("Name", "label"),
                _panel_input("URL", "base_url", placeholder="https://panel.example.com"),
                _panel_input("Timeout (seconds)", "timeout"),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
            credentials,
            options,
            rx.hstack(
                rx.button("Save panel", on_click=S.save_panel, id="save-panel"),
                rx.cond(S.editing != "", rx.button("Cancel edit", variant="soft", on_click=S.new_panel)),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="panel-form",
    )


def _panel_cells(p: PanelView) -> list[rx.Component]:
    return [
        rx.table.cell(rx.text(p.label, weight="medium"), rx.text(p.module, size="1", color_scheme="gray")),
        rx.table.cell(rx.text(p.base_url, size="2", word_break="break-all")),
        rx.table.cell(p.credentials),
        rx.table.cell(
            rx.cond(p.test_ok == "ok", rx.badge("ok", color_scheme="green")),
            rx.cond(p.test_ok == "failed", rx.badge("failed", color_scheme="red")),
            rx.text(p.last_test, size="1", color_scheme="gray"),
        ),
        rx.table.cell(
            rx.flex(
                rx.button(
                    "Test",
                    size="1",
                    on_click=S.test(p.id),  # type: ignore[misc]  # background handler, see pyproject
                    loading=S.testing == p.id,
                    id=f"test-panel-{p.id}",
                ),
                rx.button("Edit", size="1", variant="soft", on_click=S.edit(p.id)),
                rx.cond(
                    p.enabled,
                    confirm(
                        rx.button("Disable", size="1", variant="soft", color_scheme="red"),
                        title=rx.text.span("Disable ", p.label, "?"),
                        warning="Plans mapped to this panel show as unavailable and cannot be ordered; "
                        "services on it are not touched.",
                        confirm_label="Disable panel",
                        on_confirm=S.toggle(p.id, False),
                    ),
                    rx.button("Enable", size="1", variant="soft", on_click=S.toggle(p.id, True)),
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
    ]


def _mapping_form() -> rx.Component:
    return rx.grid(
        _labelled(
            "Plan",
            dropdown(
                rx.el.option("Choose…", value=""),
                rx.foreach(S.plan_codes, lambda c: rx.el.option(c, value=c)),
                value=S.mapping_form["plan_code"],
                on_change=lambda v: S.set_mapping_field("plan_code", v),
                id="mapping-plan",
                style=_FULL_WIDTH,
            ),
        ),
        _labelled(
            "Panel",
            dropdown(
                rx.el.option("Choose…", value=""),
                rx.foreach(S.panels, lambda p: rx.el.option(p.label, value=p.id.to_string())),
                value=S.mapping_form["panel_id"],
                on_change=lambda v: S.set_mapping_field("panel_id", v),
                id="mapping-panel",
                style=_FULL_WIDTH,
            ),
        ),
        _labelled(
            "Package / egg / plan / inventory filter",
            rx.input(
                value=S.mapping_form["package"],
                on_change=lambda v: S.set_mapping_field("package", v),
                id="mapping-package",
                width="100%",
            ),
        ),
        _labelled(
            "Options (name=value per line)",
            rx.text_area(
                value=S.mapping_form["options"],
                on_change=lambda v: S.set_mapping_field("options", v),
                id="mapping-options",
                rows="1",
                width="100%",
            ),
        ),
        rx.button("Map plan", on_click=S.save_mapping, id="save-mapping"),
        columns=rx.breakpoints(initial="1", md="5"),
        spacing="3",
        align="end",
        width="100%",
    )


def _mapping_cells(m: MappingView) -> list[rx.Component]:
    return [
        rx.table.cell(m.plan_code),
        rx.table.cell(m.panel, " (", m.module, ")"),
        rx.table.cell(m.package),
        rx.table.cell(
            confirm(
                rx.button("Remove", size="1", variant="soft", color_scheme="red"),
                title=rx.text.span("Stop provisioning ", m.plan_code, "?"),
                warning="New orders of this plan are no longer delivered on a panel; services already "
                "delivered keep running.",
                confirm_label="Remove mapping",
                on_confirm=S.remove_mapping(m.plan_code),
            )
        ),
    ]


def _refund_setting() -> rx.Component:
    return rx.hstack(
        rx.text("When provisioning fails for good, return the payment as", size="2"),
        dropdown(
            rx.el.option("account credit", value="credit"),
            rx.el.option("a refund to the card", value="card"),
            value=S.failure_refund,
            on_change=S.set_failure_refund,
            id="failure-refund",
            style={"width": "auto"},
        ),
        align="center",
        wrap="wrap",
    )


@area_page(
    Area.ADMIN,
    route=routes.ADMIN_PANELS,
    title="Provisioning panels",
    on_load=S.load,
    denied=S.denied,
    message="Not allowed: platform admins only.",
)
def admin_panels() -> rx.Component:
    return rx.vstack(
        rx.cond(S.message != "", rx.callout(S.message, color_scheme="green", id="panels-message")),
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", id="panels-error")),
        rx.cond(
            S.panels.length() > 0,
            cell_table(
                ["Panel", "URL", "Credentials set", "Last test", ""], S.panels, _panel_cells, "panels"
            ),
            empty_state("No panels yet: add your first one below.", empty_id="panels-empty"),
        ),
        _panel_form(),
        rx.heading("Plans on panels", size="5"),
        rx.text(
            "Reseller plans with the same code use the house plan's mapping.", size="2", color_scheme="gray"
        ),
        cell_table(
            ["Plan", "Panel", "Package", ""],
            S.mappings,
            _mapping_cells,
            "mappings",
            empty="No plan is mapped yet: orders of unmapped plans are not delivered on a panel.",
        ),
        rx.card(_mapping_form(), width="100%"),
        _refund_setting(),
        rx.link("Capacity per panel", href=routes.ADMIN_CAPACITY, size="2"),
        spacing="4",
        width="100%",
    )
