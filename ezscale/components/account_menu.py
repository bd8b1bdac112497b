"""The header's account links: sign in, or the signed-in user's name, account and sign out."""

import reflex as rx

from ezscale import routes
from ezscale.state.auth import AuthState


def _id(name: str, stacked: bool) -> dict[str, str]:
    return {} if stacked else {"id": name}


def account_menu(stacked: bool = False) -> rx.Component:
    """Sign in, or the user's name and Sign out: white in the header row, or `stacked` in the
    phone menu (without ids, which belong to the header row's copy)."""
    link = dict(weight="medium", underline="hover") | ({} if stacked else dict(color="white"))
    layout = rx.vstack if stacked else rx.hstack
    return rx.cond(
        AuthState.signed_in,
        layout(
            rx.cond(
                AuthState.role == "platform_admin",
                rx.text(
                    AuthState.user_name,
                    color="gray" if stacked else "white",
                    size="2",
                    **_id("signed-in-as", stacked),
                ),
                rx.link(AuthState.user_name, href=routes.ACCOUNT, **link, **_id("signed-in-as", stacked)),
            ),
            rx.button(
                "Sign out", size="1", variant="surface", on_click=AuthState.logout, **_id("logout", stacked)
            ),
            align="start" if stacked else "center",
        ),
        rx.link("Sign in", href=routes.LOGIN, **link, **_id("login-link", stacked)),
    )
