"""Platform admin → Capacity: per panel, how many more of each mapped plan fit now."""

import reflex as rx

from ezscale import routes
from ezscale.components.empty import empty_state
from ezscale.components.layout import Area, area_page
from ezscale.components.tables import cell_table
from ezscale.services.provisioning.stock import CapacityRow
from ezscale.state.admin_capacity import AdminCapacityState as S


def _cells(row: CapacityRow) -> list[rx.Component]:
    return [
        rx.table.cell(
            rx.text(row.panel, weight="medium"), rx.text(row.module, size="1", color_scheme="gray")
        ),
        rx.table.cell(row.plan_code),
        rx.table.cell(row.package),
        rx.table.cell(
            rx.badge(
                row.available,
                color_scheme=rx.cond((row.available == "0") | (row.available == "unknown"), "red", "green"),
            )
        ),
        rx.table.cell(rx.text(row.detail, size="1")),
    ]


@area_page(
    Area.ADMIN,
    route=routes.ADMIN_CAPACITY,
    title="Capacity",
    on_load=S.load,
    denied=S.denied,
    message="Not allowed: platform admins only.",
)
def admin_capacity() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(
                "Asked of each panel now; out-of-stock plans cannot be ordered.",
                size="2",
                color_scheme="gray",
            ),
            rx.spacer(),
            rx.button(
                "Check again", on_click=S.refresh, loading=S.loading, variant="soft", id="capacity-refresh"
            ),
            width="100%",
            wrap="wrap",
        ),
        rx.cond(
            S.rows.length() > 0,
            cell_table(["Panel", "Plan", "Package", "Available", "Detail"], S.rows, _cells, "capacity"),
            rx.cond(
                S.checked,
                empty_state(
                    "No plan is mapped to a panel yet.",
                    "Map plans",
                    routes.ADMIN_PANELS,
                    empty_id="capacity-empty",
                ),
                rx.center(rx.spinner(size="3"), width="100%"),
            ),
        ),
        spacing="4",
        width="100%",
    )
