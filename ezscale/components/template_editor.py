"""The Kasm workspace template editor: the platform admin edits the house tenant's templates, a
reseller owner their own tenant's (each through its own TemplateEditor state)."""

import reflex as rx

from ezscale.components.forms import dropdown
from ezscale.services.kasm.templates import CATEGORIES, TemplateRow
from ezscale.state.admin_templates import STATUSES, TemplateEditor


def _label(label: str, field: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), field, spacing="1", width="100%")


def _input(S: type[TemplateEditor], label: str, field: str, **props) -> rx.Component:
    return _label(
        label,
        rx.input(
            value=S.form.get(field, ""),
            on_change=lambda v: S.set_field(field, v),
            id=f"template-form-{field}",
            **props,
        ),
    )


def _choice(S: type[TemplateEditor], label: str, field: str, options: list[str]) -> rx.Component:
    return _label(
        label,
        dropdown(
            *[rx.el.option(o, value=o) for o in options],
            value=S.form.get(field, ""),
            on_change=lambda v: S.set_field(field, v),
            id=f"template-form-{field}",
        ),
    )


def _form(S: type[TemplateEditor]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(
                rx.cond(S.editing != "", "Edit template", "New template"), size="4", id="template-form-title"
            ),
            rx.grid(
                _input(S, "Name", "name"),
                _input(S, "Kasm image id", "image_id"),
                _choice(S, "Category", "category", CATEGORIES),
                _input(S, "Icon (Lucide name)", "icon"),
                _input(S, "vCPUs", "cores"),
                _input(S, "Memory (GB)", "memory_gb"),
                _choice(S, "Status", "status", STATUSES),
                _input(S, "Sort order", "sort_order"),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                align="end",
                width="100%",
            ),
            _input(S, "Description", "description", width="100%"),
            _input(S, "Preinstalled apps", "apps", width="100%"),
            rx.checkbox(
                "Persistent (stopped and resumed, not destroyed)",
                checked=S.form_persistent,
                on_change=S.set_form_persistent,
                id="template-form-persistent",
            ),
            rx.hstack(
                rx.button("Save template", on_click=S.save, id="template-save"),
                rx.button("New template", variant="soft", on_click=S.new_template, id="template-new"),
            ),
            rx.text(
                "vCPUs and memory are defaults: a workspace type's own size wins. A deprecated template "
                "leaves the order form; workspaces already on it keep working.",
                size="1",
                color_scheme="gray",
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def _row(S: type[TemplateEditor], t: TemplateRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(t.name, weight="medium"), rx.text(t.description, size="1")),
        rx.table.cell(rx.code(t.image_id, size="1")),
        rx.table.cell(t.cores, " vCPU · ", t.memory_gb, " GB"),
        rx.table.cell(t.apps),
        rx.table.cell(
            rx.cond(
                t.status == "active",
                rx.badge("active", color_scheme="green"),
                rx.badge("deprecated", color_scheme="gray"),
            ),
            rx.cond(t.persistent, rx.badge("persistent", color_scheme="blue")),
        ),
        rx.table.cell(t.sort_order),
        rx.table.cell(
            rx.button(
                "Edit",
                size="1",
                variant="soft",
                on_click=S.edit(t.id),
                id="template-edit-" + t.id.to_string(),
            )
        ),
        data_template_row=t.name,
    )


def template_editor(S: type[TemplateEditor]) -> rx.Component:
    """The form, then every template of the tenant (deprecated ones too)."""
    return rx.vstack(
        _form(S),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Template", "Kasm image", "Size", "Apps", "Status", "Order", "")
                    ]
                )
            ),
            rx.table.body(rx.foreach(S.templates, lambda t: _row(S, t))),
            size="1",
            width="100%",
            id="templates-table",
        ),
        width="100%",
        spacing="4",
    )
