"""Sign in (password, then a second factor when enrolled, or a passkey) on every tenant's host."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import feedback, field, form_card
from ezscale.components.layout import Area, area_page
from ezscale.state.login import LoginState as L


def _password_step() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.vstack(
                field("Email", "email", "email", auto_complete="username webauthn"),
                field("Password", "password", "password", auto_complete="current-password"),
                rx.button("Sign in", type="submit", width="100%", id="login-submit"),
                spacing="3",
            ),
            on_submit=L.submit_password,
            reset_on_submit=False,
        ),
        rx.button(
            rx.icon("key_round"),
            "Sign in with a passkey",
            variant="outline",
            width="100%",
            on_click=L.start_passkey,
            id="passkey-login",
        ),
        rx.hstack(
            rx.link("Forgot your password?", href=routes.FORGOT_PASSWORD, size="2"),
            rx.spacer(),
            rx.link("Create an account", href=routes.SIGNUP, size="2"),
            width="100%",
        ),
        width="100%",
        spacing="3",
    )


def _code_step() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("Enter the 6-digit code from your authenticator app, or one of your recovery codes."),
            field("Code", "code", auto_complete="one-time-code"),
            rx.button("Verify", type="submit", width="100%", id="code-submit"),
            spacing="3",
        ),
        on_submit=L.submit_code,
    )


@area_page(Area.STOREFRONT, route=routes.LOGIN, title="Sign in", on_load=L.load_login)
def login() -> rx.Component:
    return form_card(
        "Sign in",
        feedback(L.error),
        rx.cond(L.step == "code", _code_step(), _password_step()),
    )
