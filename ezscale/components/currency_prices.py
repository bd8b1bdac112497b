"""A storefront's currency settings and its plans' fixed prices per currency, editable in place,
for any state built on `CurrencyPricesMixin` (the admin's house site, a reseller's own site)."""

import reflex as rx

from ezscale.components.forms import dropdown
from ezscale.services.catalogue.view import CurrencyPriceRow
from ezscale.state.currency_prices import ROUNDING_RULES

_ROUNDING_LABELS = {
    "minor": "To the cent (half-up)",
    "whole": "Up to a whole unit",
    "ninety_nine": "Up to .99",
}


def rounding_dropdown(C) -> rx.Component:
    """The rule converted prices are rounded by."""
    return dropdown(
        *[rx.el.option(_ROUNDING_LABELS[r], value=r) for r in ROUNDING_RULES],
        value=C.rounding,
        on_change=C.set_rounding,
        id="currencies-rounding",
    )


def price_table(C, *, codes: bool = False, wholesale: bool = False, empty: str = "") -> rx.Component:
    """One row per plan and other currency: the price now and a fixed price to type and save;
    with `codes` the plan's code under its name, with `wholesale` what the reseller pays for it."""

    def row(p: CurrencyPriceRow) -> rx.Component:
        return rx.table.row(
            rx.table.cell(p.plan, rx.text(p.code, size="1", color_scheme="gray"))
            if codes
            else rx.table.cell(p.plan),
            rx.table.cell(p.currency),
            rx.table.cell(
                p.price,
                " ",
                rx.cond(p.fixed, rx.badge("fixed"), rx.badge("converted", color_scheme="gray")),
            ),
            *([rx.table.cell(p.wholesale)] if wholesale else []),
            rx.table.cell(
                rx.input(
                    value=p.draft,
                    placeholder="blank: convert",
                    on_change=lambda v: C.set_draft(p.key, v),
                    id="currency-price-" + p.key,
                    size="1",
                    width="120px",
                )
            ),
            rx.table.cell(
                rx.button("Save", size="1", on_click=C.save_price(p.key), id="currency-price-save-" + p.key)
            ),
            data_currency_price=p.key,
        )

    headers = ["Plan", "Currency", "Price now", *(["Wholesale"] if wholesale else []), "Fixed price", ""]
    table = rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(C.prices, row)),
            size="1",
            width="100%",
            id="currency-prices-table",
        ),
        overflow_x="auto",
        width="100%",
    )
    note = rx.text(empty, size="2", id="currency-prices-empty") if empty else rx.fragment()
    return rx.cond(C.prices.length() > 0, table, note)
