"""The banner shown on every page while an admin is signed in as a customer."""

import reflex as rx

from ezscale import routes


class ImpersonationState(rx.State):
    # Set by the impersonation hand-off route on the customer's host; cleared when it ends.
    impersonating: str = rx.Cookie("", name="ezscale_impersonating", same_site="lax")


def impersonation_banner() -> rx.Component:
    return rx.cond(
        ImpersonationState.impersonating != "",
        rx.callout(
            rx.hstack(
                rx.text(
                    "Staff view: you are signed in as ", rx.text.strong(ImpersonationState.impersonating), "."
                ),
                # A full page load: the server ends the session (router links stay client-side).
                rx.button(
                    "End impersonation",
                    size="1",
                    on_click=rx.call_script(f"window.location.assign('{routes.IMPERSONATE}/end')"),
                    id="end-impersonation",
                ),
                spacing="3",
            ),
            color_scheme="orange",
            icon="user-cog",
            id="impersonation-banner",
            border_radius="0",
        ),
    )
