"""The storefront home: the tenant's name and plan catalogue."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import choice
from ezscale.components.layout import Area, area_page
from ezscale.components.payments_notice import payments_notice
from ezscale.services.catalogue.storefront_view import PlanCard
from ezscale.services.kasm.usage import RULE_TEXT
from ezscale.state.brand import BrandState
from ezscale.state.payments_notice import PaymentsNoticeState
from ezscale.state.storefront import StorefrontState


def _plan_card(plan: PlanCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.badge(plan.kind, variant="soft"),
            rx.heading(plan.name, size="4"),
            rx.text(plan.description, color_scheme="gray", size="2"),
            rx.heading(plan.price, size="5", color="var(--brand-primary)"),
            rx.cond(
                plan.trial != "",
                rx.badge(plan.trial, color_scheme="green", variant="soft", id="trial-" + plan.code),
            ),
            rx.link(
                rx.button(plan.action, width="100%"),
                href=plan.href,
                id="order-" + plan.code,
                width="100%",
            ),
            spacing="2",
        ),
        data_plan=plan.code,
    )


@area_page(
    Area.STOREFRONT,
    route=routes.HOME,
    title="Storefront",
    on_load=[StorefrontState.load, PaymentsNoticeState.load],
)
def home() -> rx.Component:
    return rx.vstack(
        payments_notice(),
        rx.heading(
            "Cloud workspaces, servers and hosting from ",
            rx.text.span(BrandState.company_name, color="var(--brand-primary)", id="hero-name"),
            size="8",
        ),
        rx.text(
            "Pay per started 15 minutes for workspaces, monthly for everything else.",
            size="4",
            color_scheme="gray",
        ),
        rx.text(RULE_TEXT, size="2", color_scheme="gray", id="billing-rule"),
        rx.cond(
            StorefrontState.currencies.length() > 1,
            rx.hstack(
                rx.text("Prices in", size="2"),
                choice(
                    StorefrontState.currencies,
                    value=StorefrontState.currency,
                    on_change=StorefrontState.choose_currency,
                    aria_label="Currency",
                    id="currency-picker",
                ),
                align="center",
            ),
        ),
        rx.grid(
            rx.foreach(StorefrontState.plans, _plan_card),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            width="100%",
        ),
        spacing="5",
    )


@area_page(Area.STOREFRONT, route="404", title="Page not found", on_load=StorefrontState.load_site)
def not_found() -> rx.Component:
    """The branded 404: in the tenant's colours, with the ways back."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.text("404", size="8", weight="bold", color="var(--brand-primary)"),
                rx.heading("Page not found", size="6"),
                rx.text(
                    "The page you asked for does not exist or has moved. Check the address, or go on "
                    "from here:",
                    color_scheme="gray",
                ),
                rx.hstack(
                    rx.link(rx.button("Browse plans"), href=routes.HOME),
                    rx.link(rx.button("Client area", variant="soft"), href=routes.CLIENT),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="3",
            ),
            max_width="520px",
            width="100%",
            id="not-found",
        ),
        padding_top="48px",
    )
