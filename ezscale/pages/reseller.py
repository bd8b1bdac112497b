"""Reseller area: overview (customers, MRR, margin, wholesale invoices), domains, plans & prices,
staff, workspace templates."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.layout import Area, shell
from ezscale.pages.admin_templates import template_editor
from ezscale.pages.billing import CARD_JS
from ezscale.state.reseller import (
    ResellerDomainsState,
    ResellerPlansState,
    ResellerState,
    ResellerTemplatesState,
)
from ezscale.state.reseller_overview import ResellerOverviewState
from ezscale.state.reseller_staff import ResellerStaffState


def _guarded(title: str, state: type[ResellerState], body: rx.Component) -> rx.Component:
    return shell(
        Area.RESELLER,
        rx.vstack(
            rx.heading(title, size="7"),
            rx.cond(
                state.denied,
                rx.callout("Not allowed.", color_scheme="red", id="not-allowed"),
                rx.vstack(
                    rx.cond(
                        state.error != "", rx.callout(state.error, color_scheme="red", id="reseller-error")
                    ),
                    body,
                    width="100%",
                    spacing="4",
                ),
            ),
            width="100%",
            spacing="4",
        ),
    )


def _card(card: dict) -> rx.Component:
    return rx.card(rx.text(card["label"], size="2", color_scheme="gray"), rx.heading(card["value"], size="6"))


def _wholesale_row(i: dict) -> rx.Component:
    S = ResellerOverviewState
    return rx.table.row(
        rx.table.cell(i["number"]),
        rx.table.cell(i["period"]),
        rx.table.cell(i["total"]),
        rx.table.cell(
            rx.badge(i["status"], color_scheme=rx.cond(i["status"] == "paid", "green", "amber")),
            rx.cond(i["problem"] != "", rx.text(i["problem"], size="1", color_scheme="red")),
        ),
        rx.table.cell(
            rx.hstack(
                rx.button("PDF", size="1", variant="soft", on_click=S.download(i["id"])),
                rx.cond(i["status"] == "open", rx.button("Pay", size="1", on_click=S.pay(i["id"]))),
            )
        ),
        data_invoice=i["number"],
    )


def _card_on_file() -> rx.Component:
    S = ResellerOverviewState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Card for wholesale invoices: ", weight="medium"),
                rx.text(rx.cond(S.card_label != "", S.card_label, "none yet"), id="reseller-card"),
                rx.cond(
                    ~S.adding_card, rx.button("Add or replace card", size="1", on_click=S.start_add_card)
                ),
                align="center",
            ),
            rx.el.div(id="card-element", style={"width": "100%"}),
            rx.cond(S.adding_card, rx.button("Save card", on_click=S.confirm_card, id="save-card")),
            width="100%",
        ),
        width="100%",
    )


def overview() -> rx.Component:
    S = ResellerOverviewState
    return _guarded(
        "Reseller overview",
        S,
        rx.vstack(
            rx.grid(
                rx.foreach(S.cards, _card),
                columns=rx.breakpoints(initial="2", md="5"),
                spacing="3",
                width="100%",
                id="reseller-cards",
            ),
            rx.hstack(
                rx.link("Branding", href=routes.RESELLER_BRANDING),
                rx.link("Domains", href=routes.RESELLER_DOMAINS),
                rx.link("Plans & prices", href=routes.RESELLER_PLANS),
                rx.link("Staff", href=routes.RESELLER_STAFF),
                spacing="4",
            ),
            rx.heading("Wholesale invoices from EZSCALE", size="4"),
            _card_on_file(),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Number", "Period", "Total", "Status", "")]
                    )
                ),
                rx.table.body(rx.foreach(S.invoices, _wholesale_row)),
                width="100%",
            ),
            rx.script(src=CARD_JS),
            width="100%",
            spacing="4",
        ),
    )


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
                    rx.text("DNS: TXT ", rx.code(d["dns_name"]), " = ", rx.code(d["dns_value"]), size="1"),
                    rx.text(
                        "or HTTP: ", rx.code(d["http_url"]), " answering ", rx.code(d["http_body"]), size="1"
                    ),
                    spacing="1",
                ),
            ),
        ),
        rx.table.cell(d["tls"]),
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


def domains() -> rx.Component:
    S = ResellerDomainsState
    return _guarded(
        "Domains",
        S,
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


def plans() -> rx.Component:
    S = ResellerPlansState
    return _guarded(
        "Plans & prices",
        S,
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
    )


def _staff_row(u: dict) -> rx.Component:
    S = ResellerStaffState
    return rx.table.row(
        rx.table.cell(u["email"]),
        rx.table.cell(u["name"]),
        rx.table.cell(rx.badge(u["role"])),
        rx.table.cell(
            rx.cond(
                u["role"] == "reseller_staff",
                rx.cond(
                    u["active"] == "yes",
                    rx.button("Disable", size="1", variant="soft", on_click=S.set_active(u["id"], False)),
                    rx.button("Enable", size="1", on_click=S.set_active(u["id"], True)),
                ),
            )
        ),
    )


def staff() -> rx.Component:
    S = ResellerStaffState
    return _guarded(
        "Staff",
        S,
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
                rx.button("Invite", on_click=S.invite, id="invite-staff"),
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
    )


def workspaces() -> rx.Component:
    return _guarded("Workspace templates", ResellerTemplatesState, template_editor(ResellerTemplatesState))


def register(app: rx.App) -> None:
    app.add_page(
        overview, route=routes.RESELLER, title="Reseller overview", on_load=ResellerOverviewState.load
    )
    app.add_page(domains, route=routes.RESELLER_DOMAINS, title="Domains", on_load=ResellerDomainsState.load)
    app.add_page(plans, route=routes.RESELLER_PLANS, title="Plans & prices", on_load=ResellerPlansState.load)
    app.add_page(staff, route=routes.RESELLER_STAFF, title="Staff", on_load=ResellerStaffState.load)
    app.add_page(
        workspaces,
        route=routes.RESELLER_WORKSPACES,
        title="Workspace templates",
        on_load=ResellerTemplatesState.load,
    )
