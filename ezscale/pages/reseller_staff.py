"""Reseller area → staff: invite, disable and enable the reseller's staff accounts."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import error_callout
from ezscale.components.layout import Area, area_page
from ezscale.services.accounts.invitations import StaffRow
from ezscale.state.reseller_staff import ResellerStaffState


def _staff_row(u: StaffRow) -> rx.Component:
    S = ResellerStaffState
    return rx.table.row(
        rx.table.cell(u.email),
        rx.table.cell(u.name),
        rx.table.cell(rx.badge(u.role_label)),
        rx.table.cell(
            rx.cond(
                u.role != "reseller_owner",
                rx.cond(
                    u.active,
                    rx.button("Disable", size="1", variant="soft", on_click=S.set_active(u.id, False)),
                    rx.button("Enable", size="1", on_click=S.set_active(u.id, True)),
                ),
            )
        ),
    )


@area_page(
    Area.RESELLER,
    route=routes.RESELLER_STAFF,
    title="Staff",
    on_load=ResellerStaffState.load,
    denied=ResellerStaffState.denied,
)
def staff() -> rx.Component:
    S = ResellerStaffState
    return rx.vstack(
        error_callout(S.error, "reseller-error"),
        rx.vstack(
            rx.hstack(
                rx.input(
                    placeholder="email",
                    value=S.invite_email,
                    on_change=lambda v: S.set_invite("email", v),
                    id="invite-email",
                ),
                rx.input(
                    placeholder="name", value=S.invite_name, on_change=lambda v: S.set_invite("name", v)
                ),
                rx.select.root(
                    rx.select.trigger(aria_label="Role"),
                    rx.select.content(
                        rx.select.item("Support", value="reseller_staff"),
                        rx.select.item("Billing", value="reseller_billing"),
                    ),
                    value=S.invite_role,
                    on_change=lambda v: S.set_invite("role", v),
                ),
                rx.button("Invite", on_click=S.invite, id="invite-staff"),
                wrap="wrap",
            ),
            rx.vstack(
                rx.foreach(
                    S.roles,
                    lambda r: rx.text(rx.text.strong(r.label), ": ", r.can, size="2"),
                ),
                spacing="1",
                id="role-permissions",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(h) for h in ("Email", "Name", "Role", "")])
                ),
                rx.table.body(rx.foreach(S.staff, _staff_row)),
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
        spacing="4",
    )
