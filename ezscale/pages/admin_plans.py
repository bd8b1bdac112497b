"""Platform admin → Plans: the house storefront's catalogue, and resellers' wholesale prices."""

import reflex as rx

from ezscale import routes
from ezscale.components.currency_prices import price_table, rounding_dropdown
from ezscale.components.forms import dropdown
from ezscale.components.layout import Area, area_page
from ezscale.services.catalogue.plans import PlanRow
from ezscale.state.admin_plans import INTERVALS, SERVICE_TYPES
from ezscale.state.admin_plans import AdminCurrenciesState as C
from ezscale.state.admin_plans import AdminPlansState as S
from ezscale.state.admin_plans import AdminWholesaleState as W


def _input(label: str, field: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.input(
            value=S.form.get(field, ""),
            on_change=lambda v: S.set_field(field, v),
            id=f"plan-form-{field}",
            **props,
        ),
        spacing="1",
    )


def _choice(label: str, field: str, options: list[str]) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        dropdown(
            *[rx.el.option(o, value=o) for o in options],
            value=S.form.get(field, ""),
            on_change=lambda v: S.set_field(field, v),
            id=f"plan-form-{field}",
        ),
        spacing="1",
    )


def _form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(S.editing != "", "Edit plan", "New plan"), size="4", id="plan-form-title"),
            rx.grid(
                _input("Name", "name"),
                _input("Code (e.g. vps-4)", "code"),
                _choice("Service type", "service_type", SERVICE_TYPES),
                _choice("Billing interval", "interval", INTERVALS),
                _input("Price (hourly: rate per hour)", "price"),
                _input("Setup fee", "setup_fee"),
                _input("Sort order", "sort_order"),
                _input("Trial days (0–90, 0: none)", "trial_days"),
                rx.checkbox(
                    "On sale", checked=S.form_active, on_change=S.set_form_active, id="plan-form-active"
                ),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                align="end",
                width="100%",
            ),
            _input("Description", "description", width="100%"),
            rx.hstack(
                rx.button("Save plan", on_click=S.save, id="plan-save"),
                rx.button("New plan", variant="soft", on_click=S.new_plan, id="plan-new"),
            ),
            rx.text(
                "Prices are in the storefront's currency; a change applies from each customer's next "
                "renewal, issued invoices stay as they are.",
                size="1",
                color_scheme="gray",
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


def _plan_row(p: PlanRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(p.code),
        rx.table.cell(rx.text(p.name, weight="medium"), rx.text(p.description, size="1")),
        rx.table.cell(p.service_type),
        rx.table.cell(p.interval),
        rx.table.cell(p.price, " ", p.currency),
        rx.table.cell(p.setup_fee),
        rx.table.cell(rx.cond(p.trial_days != 0, p.trial_days.to_string() + " days", "—")),
        rx.table.cell(rx.cond(p.active, rx.badge("on sale", color_scheme="green"), rx.badge("off"))),
        rx.table.cell(p.sort_order.to_string()),
        rx.table.cell(
            rx.button("Edit", size="1", variant="soft", on_click=S.edit(p.id), id="plan-edit-" + p.code)
        ),
        data_plan_row=p.code,
    )


def _table(headers: list[str], rows, row, table_id: str) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, row)),
        size="1",
        width="100%",
        id=table_id,
    )


def _wholesale_row(p: PlanRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(p.name, rx.text(p.code, size="1", color_scheme="gray")),
        rx.table.cell(p.interval),
        rx.table.cell(p.price, " ", p.currency),
        rx.table.cell(
            rx.input(
                value=p.wholesale,
                on_change=lambda v: W.set_draft(p.id, v),
                id="wholesale-" + p.code,
                size="1",
                width="110px",
            )
        ),
        rx.table.cell(rx.button("Save", size="1", on_click=W.save(p.id), id="wholesale-save-" + p.code)),
        data_wholesale_row=p.code,
    )


def _wholesale() -> rx.Component:
    return rx.vstack(
        rx.heading("Reseller wholesale prices", size="5"),
        rx.cond(W.error != "", rx.callout(W.error, color_scheme="red", id="wholesale-error")),
        dropdown(
            rx.el.option("Choose a reseller", value=""),
            rx.foreach(W.resellers, lambda t: rx.el.option(t.name, value=t.slug)),
            value=W.reseller,
            on_change=W.choose,
            id="wholesale-reseller",
        ),
        rx.cond(
            W.reseller != "",
            _table(
                ["Plan", "Interval", "Reseller's price", "Wholesale", ""],
                W.rows,
                _wholesale_row,
                "wholesale-table",
            ),
        ),
        width="100%",
        spacing="3",
    )


def _currencies() -> rx.Component:
    return rx.vstack(
        rx.heading("Currencies", size="5"),
        rx.cond(C.error != "", rx.callout(C.error, color_scheme="red", id="currencies-error")),
        rx.text(
            "Plans are priced in the base currency, ",
            C.base,
            ". Customers choose one of the enabled currencies when they sign up (fixed once they have "
            "invoices). A plan without a fixed price in a currency is converted from its base price at "
            "the day's ECB reference rate and rounded by the rule below; each invoice records the rate used.",
            size="2",
            color_scheme="gray",
        ),
        rx.flex(
            rx.vstack(
                rx.text("Enabled currencies (e.g. USD EUR GBP JPY)", size="1", color_scheme="gray"),
                rx.input(value=C.enabled, on_change=C.set_enabled, id="currencies-enabled", width="260px"),
                spacing="1",
            ),
            rx.vstack(
                rx.text("Rounding of converted prices", size="1", color_scheme="gray"),
                rounding_dropdown(C),
                spacing="1",
            ),
            rx.button("Save currencies", on_click=C.save_settings, id="currencies-save"),
            wrap="wrap",
            spacing="3",
            align="end",
        ),
        price_table(
            C, codes=True, empty="No plan is sold in another currency yet: enable one above to sell in it."
        ),
        width="100%",
        spacing="3",
    )


@area_page(
    Area.ADMIN, route=routes.ADMIN_PLANS, title="Plans", on_load=[S.load, W.load, C.load], denied=S.denied
)
def page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", id="plans-error")),
        rx.link(
            "Provisioning: which panel delivers each plan →",
            href=routes.ADMIN_PANELS,
            size="2",
            id="to-panels",
        ),
        _form(),
        _table(
            ["Code", "Plan", "Type", "Interval", "Price", "Setup fee", "Trial", "", "Order", ""],
            S.plans,
            _plan_row,
            "plans-table",
        ),
        _wholesale(),
        _currencies(),
        width="100%",
        spacing="4",
    )
