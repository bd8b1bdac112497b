"""Reseller area → overview: customers, MRR, margin, the card on file and wholesale invoices."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import error_callout
from ezscale.components.layout import Area, area_page
from ezscale.components.payments_notice import payments_notice
from ezscale.components.stripe_card import CARD_JS
from ezscale.services.resellers.onboarding import Step
from ezscale.services.resellers.view import StatCard, WholesaleInvoiceRow
from ezscale.state.payments_notice import PaymentsNoticeState
from ezscale.state.reseller_overview import ResellerOverviewState


def _card(card: StatCard) -> rx.Component:
    return rx.card(rx.text(card.label, size="2", color_scheme="gray"), rx.heading(card.value, size="6"))


def _wholesale_row(i: WholesaleInvoiceRow) -> rx.Component:
    S = ResellerOverviewState
    return rx.table.row(
        rx.table.cell(i.number),
        rx.table.cell(i.period),
        rx.table.cell(i.total),
        rx.table.cell(i.due),
        rx.table.cell(
            rx.badge(i.status, color_scheme=rx.cond(i.status == "paid", "green", "amber")),
            rx.cond(i.problem != "", rx.text(i.problem, size="1", color_scheme="red")),
        ),
        rx.table.cell(
            rx.hstack(
                rx.button("PDF", size="1", variant="soft", on_click=S.download(i.id)),
                rx.cond(i.status == "open", rx.button("Pay", size="1", on_click=S.pay(i.id))),
            )
        ),
        data_invoice=i.number,
    )


def _step(st: Step) -> rx.Component:
    return rx.hstack(
        rx.cond(
            st.done,
            rx.icon("circle-check", color="green", size=18, flex_shrink="0"),
            rx.icon("circle", color="gray", size=18, flex_shrink="0"),
        ),
        rx.cond(
            st.done,
            rx.text(st.label, color_scheme="gray"),
            rx.link(st.label, href=st.href),
        ),
        data_step=st.key,
        align="center",
    )


def _getting_started() -> rx.Component:
    S = ResellerOverviewState
    return rx.cond(
        S.steps_left > 0,
        rx.card(
            rx.vstack(
                rx.heading("Getting started", size="4"),
                rx.text(S.steps_left, " steps left before your storefront is ready for business.", size="2"),
                rx.foreach(S.steps, _step),
                spacing="2",
            ),
            width="100%",
            id="getting-started",
        ),
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


@area_page(
    Area.RESELLER,
    route=routes.RESELLER,
    title="Reseller overview",
    on_load=[ResellerOverviewState.load, PaymentsNoticeState.load],
    denied=ResellerOverviewState.denied,
)
def overview() -> rx.Component:
    S = ResellerOverviewState
    return rx.vstack(
        error_callout(S.error, "reseller-error"),
        payments_notice(),
        _getting_started(),
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
            rx.cond(
                S.invoices.length() > 0,
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[
                                    rx.table.column_header_cell(h)
                                    for h in ("Number", "Period", "Total", "Due", "Status", "")
                                ]
                            )
                        ),
                        rx.table.body(rx.foreach(S.invoices, _wholesale_row)),
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                rx.text(
                    "No wholesale invoices yet: the first comes on your billing day, for the month before.",
                    color_scheme="gray",
                    size="2",
                    id="no-wholesale-invoices",
                ),
            ),
            rx.script(src=CARD_JS),
            width="100%",
            spacing="4",
        ),
        width="100%",
        spacing="4",
    )
