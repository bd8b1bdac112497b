"""Reseller area → customers: search the reseller's own customers, and one customer's record."""

import reflex as rx

from ezscale import routes
from ezscale.components.customer_record import customer_record
from ezscale.components.empty import empty_state, list_or_empty
from ezscale.components.layout import Area, area_page
from ezscale.components.tables import cell_table
from ezscale.state.reseller_customers import ResellerCustomersState as S
from ezscale.state.reseller_customers import ResellerCustomerState as C


@area_page(Area.RESELLER, route=routes.RESELLER_CUSTOMERS, title="Customers", on_load=S.load, denied=S.denied)
def customers_page() -> rx.Component:
    form = rx.form(
        rx.hstack(
            rx.input(
                value=S.query,
                on_change=S.set_query,
                placeholder="E-mail, name or company",
                id="customer-query",
            ),
            rx.button("Search", type="submit", id="customer-search"),
        ),
        on_submit=lambda _: S.search(),
    )
    results = cell_table(
        ["Customer", "Company", "Country", "Joined", "Status"],
        S.results,
        lambda r: [
            rx.table.cell(rx.link(r.email, href=r.href), rx.text(r.name, size="1")),
            rx.table.cell(r.company),
            rx.table.cell(r.country),
            rx.table.cell(r.joined),
            rx.table.cell(rx.badge(r.status)),
        ],
        "customer-results",
    )
    empty = empty_state(
        rx.cond(
            S.searched_for != "",
            "No customer matches “" + S.searched_for + "”. Try part of an e-mail, a name or a company.",
            "No customers yet: they appear here once they sign up on your storefront.",
        ),
        empty_id="no-customers",
    )
    return rx.vstack(form, list_or_empty(S.results, results, empty), width="100%")


@area_page(Area.RESELLER, route=routes.RESELLER_CUSTOMER, title="Customer", on_load=C.load, denied=C.denied)
def customer_page() -> rx.Component:
    return rx.vstack(
        rx.link("← Customers", href=routes.RESELLER_CUSTOMERS, size="2"),
        customer_record(C),
        width="100%",
    )
