"""The header's account links: sign in, or the signed-in user's name, account and sign out."""

import reflex as rx

from ezscale import routes
from ezscale.state.auth import AuthState


def account_menu() -> rx.Component:
    link = dict(color="white", weight="medium", underline="hover")
    return rx.cond(
        AuthState.signed_in,
        rx.hstack(
            rx.cond(
                AuthState.role == "platform_admin",
                rx.text(AuthState.user_name, color="white", size="2", id="signed-in-as"),
                rx.link(AuthState.user_name, href=routes.ACCOUNT, id="signed-in-as", **link),
            ),
            rx.button("Sign out", size="1", variant="surface", on_click=AuthState.logout, id="logout"),
            align="center",
        ),
        rx.link("Sign in", href=routes.LOGIN, id="login-link", **link),
    )
