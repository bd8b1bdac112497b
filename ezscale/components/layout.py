"""The branded shell: one layout per area (storefront, customer, reseller, admin).

Colours, name and logo come from the tenant's shared BrandState, applied as CSS variables on the
root, so a saved branding change re-themes every open page of that tenant without a reload.

A page registers itself with `@area_page(area, route=…, title=…, on_load=…)`; app.py adds every
registered page in one loop.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import reflex as rx

from ezscale import routes
from ezscale.components.account_menu import account_menu
from ezscale.components.impersonation import impersonation_banner
from ezscale.services.accounts.sessions import AuthRole
from ezscale.services.tenancy.branding import brand_variables
from ezscale.state.auth import PAGE_RULES, AuthState
from ezscale.state.brand import BrandState
from ezscale.state.site import SiteState


class Area(StrEnum):
    STOREFRONT = "storefront"
    CUSTOMER = "customer"
    RESELLER = "reseller"
    ADMIN = "admin"


_NAV = {
    Area.STOREFRONT: [("Plans", routes.HOME), ("Client area", routes.CLIENT)],
    Area.CUSTOMER: [
        ("Dashboard", routes.CLIENT),
        ("Workspaces", routes.CLIENT_WORKSPACES),
        ("Billing", routes.CLIENT_BILLING),
        ("Store", routes.HOME),
    ],
    Area.RESELLER: [
        ("Overview", routes.RESELLER),
        ("Customers", routes.RESELLER_CUSTOMERS),
        ("Usage", routes.RESELLER_USAGE),
        ("Payments", routes.RESELLER_PAYMENT_REPORT),
        ("Branding", routes.RESELLER_BRANDING),
        ("Domains", routes.RESELLER_DOMAINS),
        ("Plans", routes.RESELLER_PLANS),
        ("Workspaces", routes.RESELLER_WORKSPACES),
        ("Staff", routes.RESELLER_STAFF),
        ("Payment accounts", routes.RESELLER_GATEWAYS),
        ("Storefront", routes.HOME),
    ],
    Area.ADMIN: [
        ("Overview", routes.ADMIN),
        ("Resellers", routes.ADMIN_RESELLERS),
        ("Customers", routes.ADMIN_CUSTOMERS),
        ("Plans", routes.ADMIN_PLANS),
        ("Workspaces", routes.ADMIN_WORKSPACES),
        ("Analytics", routes.ADMIN_ANALYTICS),
        ("Alerts", routes.ADMIN_ALERTS),
        ("Gateways", routes.ADMIN_GATEWAYS),
        ("Audit", routes.ADMIN_AUDIT),
        ("Sign-ins", routes.ADMIN_LOGINS),
        ("Storefront", routes.HOME),
    ],
}


def _brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.cond(
                BrandState.logo_url != "",
                rx.image(src=BrandState.logo_url, height="32px", alt=BrandState.company_name),
                rx.box(
                    rx.image(src=routes.FAVICON, height="28px", alt=""),
                ),
            ),
            rx.heading(BrandState.company_name, size="5", id="brand-name", color="white"),
            align="center",
            spacing="2",
        ),
        href=routes.HOME,
        underline="none",
    )


# From which breakpoint an area's menu fits in the header as a row of links (sm 768 px, md 992 px,
# lg 1280 px); narrower, it folds into the menu button. The account links fold below sm.
_INLINE_FROM = {Area.STOREFRONT: "sm", Area.CUSTOMER: "sm", Area.RESELLER: "lg", Area.ADMIN: "lg"}


def _shown_from(breakpoint: str, shown: str) -> dict[str, str]:
    """A responsive `display`: hidden below `breakpoint`, `shown` from it on."""
    return rx.breakpoints(**{"initial": "none", breakpoint: shown})


def _hidden_from(breakpoint: str, shown: str) -> dict[str, str]:
    """A responsive `display`: `shown` below `breakpoint`, hidden from it on."""
    return rx.breakpoints(**{"initial": shown, breakpoint: "none"})


def _for_admins(area: Area, component: rx.Component) -> rx.Component:
    # The admin menu is for signed-in admins only (not for visitors of the admin sign-in page).
    return (
        rx.cond(AuthState.role == AuthRole.PLATFORM_ADMIN.value, component)
        if area is Area.ADMIN
        else component
    )


def _links(area: Area, **style: Any) -> list[rx.Component]:
    """The area's links, less those to pages the signed-in user's role may not open."""
    links = []
    for label, href in _NAV[area]:
        link = rx.link(label, href=href, **style)
        closed = AuthState.closed.contains(href)
        links.append(rx.cond(closed, rx.fragment(), link) if href in PAGE_RULES else link)
    return links


def _nav(area: Area) -> rx.Component:
    """The area's links in a row, shown where they fit."""
    links = rx.hstack(
        *_links(area, color="white", weight="medium", underline="hover", white_space="nowrap"),
        spacing="4",
        align="center",
        id="site-nav",
        display=_shown_from(_INLINE_FROM[area], "flex"),
    )
    return _for_admins(area, links)


def _nav_menu(area: Area) -> rx.Component:
    """On a narrow screen: one menu button that opens the area's links and the account links."""
    links = _for_admins(
        area,
        rx.fragment(*_links(area, size="3", weight="medium")),
    )
    return rx.box(
        rx.popover.root(
            rx.popover.trigger(
                rx.icon_button(rx.icon("menu"), variant="soft", size="3", aria_label="Menu", id="nav-toggle")
            ),
            rx.popover.content(
                rx.vstack(
                    links,
                    rx.box(
                        rx.separator(size="4", margin_bottom="12px"),
                        account_menu(stacked=True),
                        display=_hidden_from("sm", "block"),  # the header row shows it from sm on
                        width="100%",
                    ),
                    spacing="3",
                ),
                id="nav-menu",
                min_width="200px",
            ),
        ),
        display=_hidden_from(_INLINE_FROM[area], "block"),
    )


def tab_title(page: str) -> rx.Var:
    """The browser tab's title: "<company name> · <page>" (the page alone until the site is known)."""
    return rx.cond(BrandState.company_name != "", BrandState.company_name + f" · {page}", page)


def _header(area: Area) -> rx.Component:
    inline_from = _INLINE_FROM[area]
    return rx.box(
        rx.hstack(
            _brand(),
            rx.spacer(),
            _nav(area),
            rx.box(account_menu(), display=_shown_from("sm", "block")),
            _nav_menu(area),
            align="center",
            spacing="5",
            max_width="1280px" if inline_from == "lg" else "1100px",
            margin="0 auto",
            padding=rx.breakpoints(initial="12px 16px", sm="14px 24px"),
        ),
        background="var(--brand-secondary)",
        border_bottom="4px solid var(--brand-primary)",
        id="site-header",
    )


def _footer() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text("© ", BrandState.company_name, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.cond(
                BrandState.support_email != "",
                rx.link(BrandState.support_email, href="mailto:" + BrandState.support_email, size="2"),
            ),
            max_width="1100px",
            margin="0 auto",
            padding=rx.breakpoints(initial="24px 12px", sm="24px"),
        ),
        border_top="1px solid var(--gray-4)",
        margin_top="48px",
    )


def _notice(title: str, body: str, test_id: str) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading(title, size="6"),
                rx.text(body, color_scheme="gray"),
                rx.text("Host: ", rx.code(SiteState.host), size="2", color_scheme="gray"),
                spacing="3",
            ),
            max_width="520px",
            id=test_id,
        ),
        padding_top="96px",
    )


def unknown_site() -> rx.Component:
    return _notice(
        "Unknown site",
        "No storefront is configured for this address. Check the link you followed.",
        "unknown-site",
    )


def suspended_site() -> rx.Component:
    return _notice(
        "Temporarily unavailable",
        "This site is temporarily unavailable. Please try again later.",
        "suspended-site",
    )


def _loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), padding_top="120px")


def shell(area: Area, content: rx.Component) -> rx.Component:
    """Wrap a page's content in its area's branded layout; unknown and suspended hosts see a notice.

    The content is hidden until the page's load handlers have run: before, the tab still holds the
    previous page's state (another customer's record, a form the load resets), and a click on it
    would be undone by the load that follows.
    """
    known = rx.box(
        impersonation_banner(),
        _header(area),
        rx.box(
            # Hidden, not unmounted: a page's on_mount/on_unmount handlers must not fire again
            # each time a navigation's load handlers run.
            rx.cond(~rx.State.is_hydrated, _loading()),
            rx.box(content, display=rx.cond(rx.State.is_hydrated, "block", "none")),
            max_width="1100px",
            margin="0 auto",
            padding=rx.breakpoints(initial="20px 12px", sm="32px 24px"),
        ),
        _footer(),
    )
    return rx.box(
        rx.match(
            SiteState.status,
            ("unknown", unknown_site()),
            ("suspended", rx.box(_header(Area.STOREFRONT), suspended_site())),
            ("ok", known),
            _loading(),
        ),
        rx.el.style(BrandState.custom_css),
        style=brand_variables(BrandState.primary_color, BrandState.secondary_color),
        min_height="100vh",
        on_mount=BrandState.link_site,
        id="site-root",
        data_site_status=SiteState.status,
        data_hydrated=rx.State.is_hydrated,
        # The page the state was loaded for (after a link, the tab briefly holds the last one's).
        data_path=rx.State.router.page.raw_path,
    )


def area_intro(title: str, body: str) -> rx.Component:
    """An area's heading over a short grey note (also the admin area's "not on this site" view)."""
    return rx.vstack(
        rx.heading(title, size="7"),
        rx.callout(body, icon="lock", color_scheme="gray"),
        spacing="4",
    )


def not_allowed(message: str = "Not allowed.") -> rx.Component:
    """The one view a signed-in user of the wrong role sees instead of a page's content."""
    return rx.callout(message, color_scheme="red", id="not-allowed")


View = Callable[[], rx.Component]


@dataclass(frozen=True)
class Page:
    """A registered page, added to the app by app.py."""

    view: View
    route: str
    title: str
    on_load: Any


PAGES: list[Page] = []


def area_page(
    area: Area,
    *,
    route: str,
    title: str,
    on_load: Any = None,
    denied: rx.Var | None = None,
    heading: str | None = None,
    message: str = "Not allowed.",
) -> Callable[[View], View]:
    """Register the decorated content as a page of `area` at `route`, titled "<company> · title".

    With `denied`, the content sits under a heading (`heading`, else `title`; `heading=""` for
    none) and is replaced by the "Not allowed" view while `denied` is true. The decorated function
    is returned unchanged, so one content can be registered at several routes.
    """

    def decorate(content: View) -> View:
        def view() -> rx.Component:
            body = content()
            if denied is not None:
                body = rx.cond(denied, not_allowed(message), body)
                text = title if heading is None else heading
                if text:
                    body = rx.vstack(rx.heading(text, size="7"), body, width="100%", spacing="4")
            return shell(area, body)

        view.__name__ = content.__name__
        PAGES.append(Page(view=view, route=route, title=title, on_load=on_load))
        return content

    return decorate
