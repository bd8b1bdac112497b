"""Reseller area → domains, plans & prices, workspace templates (their states share state/reseller.py)."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.currency_prices import price_table, rounding_dropdown
from ezscale.components.forms import error_callout
from ezscale.components.layout import Area, area_page
from ezscale.components.template_editor import template_editor
from ezscale.services.catalogue.view import ResellerPlanRow
from ezscale.services.tenancy.domains import DomainRow
from ezscale.state.reseller import (
    ResellerCurrenciesState,
    ResellerDomainsState,
    ResellerPlansState,
    ResellerTemplatesState,
)


def _token(value) -> rx.Component:
    """A record name, URL or token to copy: breaks anywhere, so the buttons beside it stay in view."""
    return rx.code(value, overflow_wrap="anywhere")


def _domain_row(d: DomainRow) -> rx.Component:
    S = ResellerDomainsState
    return rx.table.row(
        rx.table.cell(rx.text(d.domain, weight="medium"), rx.cond(d.type == "primary", rx.badge("primary"))),
        rx.table.cell(
            rx.badge(
                d.status,
                color_scheme=rx.match(d.status, ("verified", "green"), ("failed", "red"), "amber"),
            ),
            rx.cond(d.error != "", rx.text(d.error, size="1", color_scheme="red")),
            rx.cond(
                d.status != "verified",
                rx.vstack(
                    rx.text("Point it here: ", _token(d.route_type), " ", _token(d.route_value), size="1"),
                    rx.text("DNS: TXT ", _token(d.dns_name), " = ", _token(d.dns_value), size="1"),
                    rx.text("or HTTP: ", _token(d.http_url), " answering ", _token(d.http_body), size="1"),
                    spacing="1",
                ),
            ),
        ),
        rx.table.cell(
            rx.text(d.tls),
            rx.cond(d.tls_error != "", rx.text(d.tls_error, size="1", color_scheme="red")),
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    d.status != "verified",
                    rx.hstack(
                        rx.button("Check DNS", size="1", on_click=S.verify(d.id, "dns")),
                        rx.button("Check HTTP", size="1", variant="soft", on_click=S.verify(d.id, "http")),
                    ),
                ),
                rx.cond(
                    (d.status == "verified") & (d.type != "primary"),
                    rx.button("Make primary", size="1", variant="soft", on_click=S.make_primary(d.id)),
                ),
                rx.cond(
                    d.type != "primary",
                    confirm(
                        rx.button("Remove", size="1", color_scheme="red", variant="soft"),
                        title=rx.text.span("Remove ", d.domain, "?"),
                        warning=(
                            "Your storefront stops answering on this domain at once and its "
                            "certificate is dropped. To use it again you add and verify it anew."
                        ),
                        confirm_label="Remove domain",
                        on_confirm=S.remove(d.id),
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


def _plan_input(p: ResellerPlanRow, field: str, placeholder, width: str) -> rx.Component:
    S = ResellerPlansState
    return rx.input(
        value=getattr(p, field),
        placeholder=placeholder,
        on_change=lambda v: S.set_field(p.id, field, v),
        id=f"plan-{field}-" + p.code,
        size="1",
        width=width,
    )


def _plan_row(p: ResellerPlanRow) -> rx.Component:
    S = ResellerPlansState
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                _plan_input(p, "name", "Name", "190px"),
                _plan_input(p, "description", "Description", "190px"),
                rx.text(p.code, size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(p.retail),
        rx.table.cell(p.wholesale),
        rx.table.cell(p.margin),
        rx.table.cell(_plan_input(p, "price", p.unit, "100px")),
        rx.table.cell(_plan_input(p, "setup_fee", "none", "80px")),
        rx.table.cell(_plan_input(p, "trial_days", "0", "60px")),
        rx.table.cell(_plan_input(p, "sort_order", "", "60px")),
        rx.table.cell(
            rx.checkbox(
                checked=p.active,
                on_change=lambda v: S.set_active(p.id, v),
                id="plan-active-" + p.code,
            )
        ),
        rx.table.cell(rx.button("Save", size="1", on_click=S.save(p.id), id="plan-save-" + p.code)),
        data_plan_row=p.code,
    )


def _add_plan() -> rx.Component:
    S = ResellerPlansState

    def field(label: str, key: str, width: str = "140px") -> rx.Component:
        return rx.input(
            placeholder=label,
            value=S.new_plan.get(key, ""),
            on_change=lambda v: S.set_new_plan(key, v),
            width=width,
            id=f"new-plan-{key}",
        )

    return rx.card(
        rx.vstack(
            rx.heading("Add a plan from EZSCALE's catalogue", size="3"),
            rx.text(
                "Sell any of EZSCALE's products under your own name and price — the same product more "
                "than once if you like. New plans start off sale, so you can check them first.",
                size="2",
                color_scheme="gray",
            ),
            rx.select.root(
                rx.select.trigger(placeholder="Choose a product", width="100%"),
                rx.select.content(rx.foreach(S.offers, lambda o: rx.select.item(o.label, value=o.code))),
                value=S.new_plan.get("offer", ""),
                on_change=lambda v: S.set_new_plan("offer", v),
            ),
            rx.hstack(
                field("Name (optional)", "name", "200px"),
                field("Price", "price"),
                field("Setup fee", "setup_fee"),
                field("Trial days (0–90)", "trial_days"),
                field("Order", "sort_order", "80px"),
                rx.button("Add plan", on_click=S.add_plan, id="add-plan"),
                wrap="wrap",
            ),
            field("Description (optional)", "description", "100%"),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="add-plan-card",
    )


def _currencies() -> rx.Component:
    C = ResellerCurrenciesState
    return rx.card(
        rx.vstack(
            rx.heading("Currencies", size="3"),
            rx.text(
                "Customers choose one of your enabled currencies when they sign up. A plan without a "
                "fixed price in a currency is converted from your price at the day's rate; a fixed "
                "price must be at least the wholesale price at that rate.",
                size="2",
                color_scheme="gray",
            ),
            rx.flex(
                rx.input(
                    value=C.enabled,
                    on_change=C.set_enabled,
                    placeholder="e.g. USD EUR GBP",
                    id="currencies-enabled",
                    width="240px",
                ),
                rounding_dropdown(C),
                rx.button("Save currencies", on_click=C.save_settings, id="currencies-save"),
                wrap="wrap",
                spacing="3",
                align="center",
            ),
            price_table(C, wholesale=True),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="currencies-card",
    )


@area_page(
    Area.RESELLER,
    route=routes.RESELLER_PLANS,
    title="Plans & prices",
    on_load=[ResellerPlansState.load, ResellerCurrenciesState.load],
    denied=ResellerPlansState.denied,
)
def plans() -> rx.Component:
    S = ResellerPlansState
    return rx.vstack(
        error_callout(S.error, "reseller-error"),
        rx.vstack(
            rx.text(
                "Your plans come from EZSCALE's wholesale catalogue. Set what your customers pay "
                "(never below wholesale); a new price applies from each customer's next renewal. "
                "Trial days (0–90) give each new customer of a plan one free trial: a saved card "
                "is required, the first invoice comes at the trial's end. Order sorts the storefront.",
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
                                "Trial days",
                                "Order",
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
            overflow_x="auto",
        ),
        _add_plan(),
        _currencies(),
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
