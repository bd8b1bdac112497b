"""Platform admin → Resellers."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import choice
from ezscale.components.layout import Area, area_page
from ezscale.state.admin_resellers import AdminResellersState as S


def _input(label: str, field: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(
            value=S.form.get(field, ""),
            on_change=lambda v: S.set_form(field, v),
            id=f"reseller-{field}",
            **props,
        ),
        spacing="1",
    )


def _form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("New reseller", size="4"),
            rx.grid(
                _input("Company name", "name"),
                _input("Slug", "slug", placeholder="acme"),
                _input("Owner email", "owner_email"),
                _input("Owner name", "owner_name"),
                _input("Primary domain (optional)", "domain", placeholder="shop.example.com"),
                rx.vstack(
                    rx.text("Tier", size="2", weight="medium"),
                    choice(
                        ["basic", "pro", "enterprise"],
                        value=S.form.get("tier", "basic"),
                        on_change=lambda v: S.set_form("tier", v),
                        id="reseller-tier",
                    ),
                    spacing="1",
                ),
                _input("Trial days", "trial_days", width="80px"),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="3",
            ),
            rx.button("Create reseller", on_click=S.create, id="create-reseller"),
            spacing="3",
        ),
    )


DELETE_WARNING = (
    "Its data is exported now; the storefront closes at once and the database is dropped after "
    "30 days. You can cancel until then."
)


def _delete_dialog(t: dict) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Delete", size="1", color_scheme="red", variant="soft")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete ", t.name, "?"),
            rx.alert_dialog.description(DELETE_WARNING),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep", variant="soft")),
                rx.alert_dialog.action(rx.button("Delete", color_scheme="red", on_click=S.delete(t.slug))),
                justify="end",
            ),
        ),
    )


def _actions(t: dict) -> rx.Component:
    status = t.status
    return rx.hstack(
        rx.cond(status == "suspended", rx.button("Reactivate", size="1", on_click=S.reactivate(t.slug))),
        rx.cond(
            (status == "active") | (status == "trial"),
            rx.button("Suspend", size="1", variant="soft", on_click=S.suspend(t.slug)),
        ),
        rx.cond(status == "deleting", rx.button("Cancel deletion", size="1", on_click=S.reactivate(t.slug))),
        rx.cond((status != "deleting") & (status != "deleted"), _delete_dialog(t)),
    )


def _row(t: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(t.name, weight="medium"), rx.text(t.slug, size="1", color_scheme="gray")),
        rx.table.cell(
            rx.badge(t.status),
            rx.cond(t.trial_ends != "", rx.text("until ", t.trial_ends, size="1")),
            rx.cond(t.reason == "unpaid", rx.text("wholesale unpaid", size="1", color_scheme="red")),
        ),
        rx.table.cell(t.domains),
        rx.table.cell(
            rx.cond(
                ~t.house,
                choice(
                    [str(d) for d in range(1, 29)],
                    value=t.cycle_day,
                    on_change=lambda day: S.set_cycle_day(t.slug, day),
                    size="1",
                    aria_label="Billing day",
                ),
            )
        ),
        rx.table.cell(rx.cond(~t.house, _actions(t))),
        data_tenant=t.slug,
    )


@area_page(Area.ADMIN, route=routes.ADMIN_RESELLERS, title="Resellers", on_load=S.load, denied=S.denied)
def page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", id="admin-error")),
        _form(),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Reseller", "Status", "Domains", "Billing day", "")
                    ]
                )
            ),
            rx.table.body(rx.foreach(S.tenants, _row)),
            width="100%",
        ),
        width="100%",
        spacing="4",
    )
