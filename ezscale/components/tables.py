"""Read-only tables: `table` shows named columns of rows (typed dataclass rows or dicts),
`cell_table` lets the caller build each row's cells (links, badges, buttons). Both scroll sideways
inside their box on a phone."""

import reflex as rx


def table(rows, columns: list[tuple[str, str]], table_id: str, empty: str = "Nothing yet.") -> rx.Component:
    listing = rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(label) for label, _ in columns])),
            rx.table.body(
                rx.foreach(rows, lambda r: rx.table.row(*[rx.table.cell(r[key]) for _, key in columns]))
            ),
            size="1",
            width="100%",
            id=table_id,
        ),
        overflow_x="auto",
        width="100%",
    )
    return rx.cond(
        rows.length() > 0,
        listing,
        rx.text(empty, color_scheme="gray", size="2", id=f"{table_id}-empty"),
    )


def cell_table(headers: list[str], rows, cells, table_id: str, empty: str = "") -> rx.Component:
    table = rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, lambda r: rx.table.row(*cells(r)))),
            size="1",
            width="100%",
            id=table_id,
        ),
        overflow_x="auto",
        width="100%",
    )
    if not empty:
        return table
    note = rx.text(empty, size="2", color_scheme="gray", id=f"{table_id}-empty")
    return rx.cond(rows.length() > 0, table, note)
