"""Sign up, the email confirmation link and password reset, on every tenant's host."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import choice, feedback, field, form_card
from ezscale.components.layout import Area, area_page
from ezscale.state.signup import SignupState as S


@area_page(Area.STOREFRONT, route=routes.SIGNUP, title="Create account", on_load=S.load_form)
def signup() -> rx.Component:
    form = rx.form(
        rx.vstack(
            field("Name", "name", auto_complete="name"),
            field("Email", "email", "email", auto_complete="email"),
            field("Password (at least 12 characters)", "password", "password", auto_complete="new-password"),
            field("Repeat password", "confirm", "password", auto_complete="new-password"),
            rx.cond(
                S.currencies.length() > 1,
                rx.vstack(
                    rx.text("Currency (fixed once you have invoices)", size="2", weight="medium"),
                    choice(
                        S.currencies, name="currency", default_value=S.currencies[0], id="signup-currency"
                    ),
                    spacing="1",
                    width="100%",
                ),
            ),
            rx.button("Create account", type="submit", width="100%", id="signup-submit"),
            spacing="3",
        ),
        on_submit=S.submit_signup,
        reset_on_submit=False,
    )
    return form_card(
        "Create your account", feedback(S.error, S.message), rx.cond(S.done, rx.fragment(), form)
    )


@area_page(Area.STOREFRONT, route=routes.VERIFY_EMAIL, title="Confirm email", on_load=S.load_verify)
def verify_email() -> rx.Component:
    return form_card(
        "Email confirmation",
        feedback(S.error, S.message),
        rx.link("Go to sign in", href=routes.LOGIN, id="to-login"),
    )


@area_page(Area.STOREFRONT, route=routes.FORGOT_PASSWORD, title="Forgot password", on_load=S.load_form)
def forgot_password() -> rx.Component:
    form = rx.form(
        rx.vstack(
            field("Email", "email", "email"),
            rx.button("Send reset link", type="submit", width="100%", id="forgot-submit"),
            spacing="3",
        ),
        on_submit=S.submit_forgot,
    )
    return form_card(
        "Forgot your password?", feedback(S.error, S.message), rx.cond(S.done, rx.fragment(), form)
    )


@area_page(Area.STOREFRONT, route=routes.RESET_PASSWORD, title="New password", on_load=S.load_form)
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
    return form_card(
        "Choose a new password",
        feedback(S.error, S.message),
        rx.cond(S.done, rx.link("Sign in", href=routes.LOGIN), form),
    )
