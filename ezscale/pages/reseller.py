"""Reseller area → domains, plans & prices, workspace templates (their states share state/reseller.py)."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.forms import error_callout
from ezscale.components.layout import Area, area_page
from ezscale.components.template_editor import template_editor
from ezscale.state.reseller import ResellerDomainsState, ResellerPlansState, ResellerTemplatesState


def _domain_row(d: dict) -> rx.Component:
    S = ResellerDomainsState
    return rx.table.row(
        rx.table.cell(
            rx.text(d["domain"], weight="medium"), rx.cond(d["type"] == "primary", rx.badge("primary"))
        ),
        rx.table.cell(
            rx.badge(
                d["status"],
                color_scheme=rx.match(d["status"], ("verified", "green"), ("failed", "red"), "amber"),
            ),
            rx.cond(d["error"] != "", rx.text(d["error"], size="1", color_scheme="red")),
            rx.cond(
                d["status"] != "verified",
                rx.vstack(
                    rx.text(
                        "Point it here: ", rx.code(d["route_type"]), " ", rx.code(d["route_value"]), size="1"
                    ),
                    rx.text("DNS: TXT ", rx.code(d["dns_name"]), " = ", rx.code(d["dns_value"]), size="1"),
                    rx.text(
                        "or HTTP: ", rx.code(d["http_url"]), " answering ", rx.code(d["http_body"]), size="1"
                    ),
                    spacing="1",
                ),
            ),
        ),
        rx.table.cell(
            rx.text(d["tls"]),
            rx.cond(d["tls_error"] != "", rx.text(d["tls_error"], size="1", color_scheme="red")),
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    d["status"] != "verified",
                    rx.hstack(
                        rx.button("Check DNS", size="1", on_click=S.verify(d["id"], "dns")),
                        rx.button("Check HTTP", size="1", variant="soft", on_click=S.verify(d["id"], "http")),
                    ),
                ),
                rx.cond(
                    (d["status"] == "verified") & (d["type"] != "primary"),
                    rx.button("Make primary", size="1", variant="soft", on_click=S.make_primary(d["id"])),
                ),
                rx.cond(
                    d["type"] != "primary",
                    confirm(
                        rx.button("Remove", size="1", color_scheme="red", variant="soft"),
                        title=rx.text.span("Remove ", d["domain"], "?"),
                        warning=(
                            "Your storefront stops answering on this domain at once and its "
                            "certificate is dropped. To use it again you add and verify it anew."
                        ),
                        confirm_label="Remove domain",
                        on_confirm=S.remove(d["id"]),
                    ),
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
    )


@area_page(
    Area.RESELLER,
    route=routes.RESELLER_DOMAINS,
    title="Domains",
    on_load=ResellerDomainsState.load,
    denied=ResellerDomainsState.denied,
)
def domains() -> rx.Component:
    S = ResellerDomainsState
    return rx.vstack(
        error_callout(S.error, "reseller-error"),
        rx.vstack(
            rx.hstack(
                rx.input(
                    placeholder="shop.example.com",
                    value=S.new_domain,
                    on_change=S.set_new_domain,
                    id="new-domain",
                ),
                rx.button("Add domain", on_click=S.add, id="add-domain"),
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Domain", "Verification", "TLS", "")]
                    )
                ),
                rx.table.body(rx.foreach(S.domains, _domain_row)),
                width="100%",
            ),
            width="100%",
        ),
        width="100%",
        spacing="4",
    )


def _plan_input(p: dict, field: str, placeholder, width: str) -> rx.Component:
    S = ResellerPlansState
    return rx.input(
        value=p[field],
        placeholder=placeholder,
        on_change=lambda v: S.set_field(p["id"], field, v),
        id=f"plan-{field}-" + p["code"],
        size="1",
        width=width,
    )


def _plan_row(p: dict) -> rx.Component:
    S = ResellerPlansState
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                _plan_input(p, "name", "Name", "190px"),
                _plan_input(p, "description", "Description", "190px"),
                rx.text(p["code"], size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(p["retail"]),
        rx.table.cell(p["wholesale"]),
        rx.table.cell(p["margin"]),
        rx.table.cell(_plan_input(p, "price", p["unit"], "100px")),
        rx.table.cell(_plan_input(p, "setup_fee", "none", "80px")),
        rx.table.cell(
            rx.checkbox(
                checked=p["active"] == "yes",
                on_change=lambda v: S.set_active(p["id"], v),
                id="plan-active-" + p["code"],
            )
        ),
        rx.table.cell(rx.button("Save", size="1", on_click=S.save(p["id"]), id="plan-save-" + p["code"])),
        data_plan_row=p["code"],
    )


@area_page(
    Area.RESELLER,
    route=routes.RESELLER_PLANS,
    title="Plans & prices",
    on_load=ResellerPlansState.load,
    denied=ResellerPlansState.denied,
)
def plans() -> rx.Component:
    S = ResellerPlansState
    return rx.vstack(
        error_callout(S.error, "reseller-error"),
        rx.vstack(
            rx.text(
                "Your plans come from EZSCALE's wholesale catalogue. Set what your customers pay "
                "(never below wholesale); a new price applies from each customer's next renewal.",
                size="2",
                color_scheme="gray",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in (
                                "Plan",
                                "Your price",
                                "Wholesale",
                                "Margin",
                                "Price",
                                "Setup fee",
                                "On sale",
                                "",
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(S.rows, _plan_row)),
                width="100%",
                id="reseller-plans",
            ),
            width="100%",
        ),
        width="100%",
        spacing="4",
    )


@area_page(
    Area.RESELLER,
    route=routes.RESELLER_WORKSPACES,
    title="Workspace templates",
    on_load=ResellerTemplatesState.load,
    denied=ResellerTemplatesState.denied,
)
def workspaces() -> rx.Component:
    S = ResellerTemplatesState
    return rx.vstack(error_callout(S.error, "reseller-error"), template_editor(S), width="100%", spacing="4")
