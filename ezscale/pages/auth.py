"""Sign in, sign up, email links and password reset, on every tenant's host."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, shell
from ezscale.state.login import LoginState as L
from ezscale.state.signup import SignupState as S


def field(label: str, name: str, kind: str = "text", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(name=name, type=kind, id=f"{name}-input", width="100%", **props),
        spacing="1",
        width="100%",
    )


def feedback(error, message=None) -> rx.Component:
    parts = [
        rx.cond(error != "", rx.callout(error, color_scheme="red", icon="triangle_alert", id="form-error"))
    ]
    if message is not None:
        parts.append(rx.cond(message != "", rx.callout(message, color_scheme="green", id="form-message")))
    return rx.fragment(*parts)


def card(title: str, *children: rx.Component) -> rx.Component:
    return shell(
        Area.STOREFRONT,
        rx.center(
            rx.card(
                rx.vstack(rx.heading(title, size="6"), *children, spacing="4", width="100%"), width="420px"
            )
        ),
    )


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


def login() -> rx.Component:
    return card(
        "Sign in",
        feedback(L.error),
        rx.cond(L.step == "code", _code_step(), _password_step()),
    )


def signup() -> rx.Component:
    form = rx.form(
        rx.vstack(
            field("Name", "name", auto_complete="name"),
            field("Email", "email", "email", auto_complete="email"),
            field("Password (at least 12 characters)", "password", "password", auto_complete="new-password"),
            field("Repeat password", "confirm", "password", auto_complete="new-password"),
            rx.button("Create account", type="submit", width="100%", id="signup-submit"),
            spacing="3",
        ),
        on_submit=S.submit_signup,
        reset_on_submit=False,
    )
    return card("Create your account", feedback(S.error, S.message), rx.cond(S.done, rx.fragment(), form))


def verify_email() -> rx.Component:
    return card(
        "Email confirmation",
        feedback(S.error, S.message),
        rx.link("Go to sign in", href=routes.LOGIN, id="to-login"),
    )


def forgot_password() -> rx.Component:
    form = rx.form(
        rx.vstack(
            field("Email", "email", "email"),
            rx.button("Send reset link", type="submit", width="100%", id="forgot-submit"),
            spacing="3",
        ),
        on_submit=S.submit_forgot,
    )
    return card("Forgot your password?", feedback(S.error, S.message), rx.cond(S.done, rx.fragment(), form))


def reset_password() -> rx.Component:
    form = rx.form(
        rx.vstack(
            field(
                "New password (at least 12 characters)", "password", "password", auto_complete="new-password"
            ),
            field("Repeat new password", "confirm", "password", auto_complete="new-password"),
            rx.button("Set new password", type="submit", width="100%", id="reset-submit"),
            spacing="3",
        ),
        on_submit=S.submit_reset,
        reset_on_submit=False,
    )
    return card(
        "Choose a new password",
        feedback(S.error, S.message),
        rx.cond(S.done, rx.link("Sign in", href=routes.LOGIN), form),
    )


def register(app: rx.App) -> None:
    app.add_page(login, route=routes.LOGIN, title="Sign in", on_load=L.load_login)
    app.add_page(signup, route=routes.SIGNUP, title="Create account", on_load=S.load_form)
    app.add_page(verify_email, route=routes.VERIFY_EMAIL, title="Confirm email", on_load=S.load_verify)
    app.add_page(forgot_password, route=routes.FORGOT_PASSWORD, title="Forgot password", on_load=S.load_form)
    app.add_page(reset_password, route=routes.RESET_PASSWORD, title="New password", on_load=S.load_form)
