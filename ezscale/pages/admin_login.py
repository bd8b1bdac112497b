"""The platform admin sign-in: password, then an authenticator code (enrolled on first sign-in)."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import feedback, field
from ezscale.components.layout import Area, area_page
from ezscale.state.admin_login import AdminLoginState as L


@area_page(Area.ADMIN, route=routes.ADMIN_LOGIN, title="Admin sign-in", on_load=L.load_login)
def admin_login() -> rx.Component:
    code_form = rx.form(
        rx.vstack(
            field("Code from your authenticator app", "code", auto_complete="one-time-code"),
            rx.button("Verify", type="submit", width="100%", id="code-submit"),
        ),
        on_submit=L.submit_code,
    )
    password_form = rx.form(
        rx.vstack(
            field("Email", "email", "email", auto_complete="username"),
            field("Password", "password", "password", auto_complete="current-password"),
            rx.button("Continue", type="submit", width="100%", id="login-submit"),
        ),
        on_submit=L.submit_password,
        reset_on_submit=False,
    )
    enrol = rx.vstack(
        rx.text("Admins need a second factor. Scan this QR code with an authenticator app:"),
        rx.image(src=L.qr, width="200px", height="200px", alt="TOTP QR code"),
        rx.text("Key: ", rx.code(L.secret), size="2"),
    )
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("Platform admin sign-in", size="6"),
                feedback(L.error),
                rx.cond(L.step == "enrol", enrol),
                rx.cond(L.step == "password", password_form, code_form),
                spacing="4",
            ),
            width="420px",
        )
    )
