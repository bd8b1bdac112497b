"""Staff's customer search — a query box and the matching customers, each linking to its record —
for the admin area (every tenant's customers) and the reseller area (its own)."""

import reflex as rx

from ezscale.components.empty import empty_state, list_or_empty
from ezscale.components.tables import cell_table


def customer_search(S, *, tenant_column: bool, nobody_yet: str) -> rx.Component:
    """Search with `S.query` / `S.search`; `S.results` in a table (with each customer's tenant when
    `tenant_column`), or a note: nothing matches, or `nobody_yet` before anyone has signed up."""
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
        [*(["Tenant"] if tenant_column else []), "Customer", "Company", "Country", "Joined", "Status"],
        S.results,
        lambda r: [
            *([rx.table.cell(r.tenant)] if tenant_column else []),
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
            nobody_yet,
        ),
        empty_id="no-customers",
    )
    return rx.vstack(form, list_or_empty(S.results, results, empty), width="100%")
