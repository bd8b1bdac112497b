"""What a list says when it has nothing to show: that it is empty, and the next step."""

import reflex as rx


def empty_state(message, action: str = "", href: str = "", *, empty_id: str) -> rx.Component:
    return rx.callout(
        rx.text(message, " ", rx.link(action, href=href, weight="medium") if action else ""),
        icon="info",
        color_scheme="gray",
        variant="surface",
        width="100%",
        id=empty_id,
        class_name="empty-state",
    )


def list_or_empty(rows, listing: rx.Component, empty: rx.Component) -> rx.Component:
    return rx.cond(rows.length() > 0, listing, empty)
