"""Form widgets shared by the sign-in, account and admin pages: a labelled field, the two kinds of
select, the error and success callouts, the centred card a short form sits in, and a titled card
section."""

import reflex as rx


def field(label: str, name: str, kind: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(name=name, type=kind, id=f"{name}-input", width="100%", **props),
        spacing="1",
        width="100%",
    )


def feedback(error: rx.Var, message: rx.Var | None = None) -> rx.Component:
    parts = [
        rx.cond(error != "", rx.callout(error, color_scheme="red", icon="triangle_alert", id="form-error"))
    ]
    if message is not None:
        parts.append(rx.cond(message != "", rx.callout(message, color_scheme="green", id="form-message")))
    return rx.fragment(*parts)


def form_card(title: str, *children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(rx.vstack(rx.heading(title, size="6"), *children, spacing="4", width="100%"), width="420px")
    )


def section(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"), width="100%", **props
    )


def error_callout(error: rx.Var, callout_id: str) -> rx.Component:
    """A red callout showing `error` while it is not empty."""
    return rx.cond(error != "", rx.callout(error, color_scheme="red", id=callout_id))


SELECT_STYLE = {"padding": "6px", "border_radius": "6px", "border": "1px solid var(--gray-7)"}


def dropdown(*options: rx.Component, style: dict | None = None, **props) -> rx.Component:
    """A native `<select>` drawn like the other fields; `options` are `rx.el.option`s or a foreach
    of them, `style` adds to (or overrides) the common look."""
    return rx.el.select(*options, style={**SELECT_STYLE, **(style or {})}, **props)


def choice(items: list[str] | rx.Var, **props) -> rx.Component:
    """A themed (Radix) select of plain string items, for short fixed lists."""
    return rx.select(items, **props)
