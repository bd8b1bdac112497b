"""The signed-in user's account: profile, email, password, sessions and sign-in history."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.forms import feedback, field, section
from ezscale.components.layout import Area, area_page
from ezscale.state.account import AccountState as A


def _profile() -> rx.Component:
    def prefilled(label: str, name: str) -> rx.Component:
        return rx.vstack(
            rx.text(label, size="2", weight="medium"),
            rx.input(name=name, default_value=getattr(A.profile, name), id=f"profile-{name}", width="100%"),
            spacing="1",
            width="100%",
        )

    return section(
        "Profile",
        rx.form(
            rx.vstack(
                prefilled("Name", "name"),
                prefilled("Company", "company"),
                prefilled("Address", "address"),
                prefilled("Country (2 letters)", "country"),
                prefilled("Tax id", "tax_id"),
                rx.button("Save profile", type="submit", id="profile-save"),
                width="100%",
            ),
            on_submit=A.save_profile,
            reset_on_submit=False,
        ),
    )


def _credentials() -> rx.Component:
    return section(
        "Email and password",
        rx.text("Signed in as ", rx.code(A.profile.email)),
        rx.form(
            rx.vstack(
                field("Current password", "current", "password"),
                field("New password", "new", "password"),
                field("Repeat new password", "confirm", "password"),
                rx.button("Change password", type="submit", id="password-save"),
                width="100%",
            ),
            on_submit=A.change_password,
        ),
        rx.form(
            rx.vstack(
                field("New email", "email", "email"),
                field("Password", "password", "password"),
                rx.button("Change email", type="submit", id="email-save"),
                width="100%",
            ),
            on_submit=A.change_email,
        ),
    )


def _sessions() -> rx.Component:
    return section(
        "Sessions and sign-in history",
        rx.text(A.session_count, " active session(s)."),
        rx.hstack(
            confirm(
                rx.button("Sign out other sessions", variant="soft", id="logout-others"),
                title="Sign out your other sessions?",
                warning="Every other browser and device signed in to your account is signed out at once; "
                "this one stays signed in.",
                confirm_label="Sign out others",
                on_confirm=A.logout_others,
            ),
            confirm(
                rx.button("Sign out everywhere", color_scheme="red", id="logout-all"),
                title="Sign out everywhere?",
                warning="Every session is ended, this one included: you and anyone else signed in to your "
                "account must sign in again.",
                confirm_label="Sign out everywhere",
                on_confirm=A.logout_everywhere,
            ),
            wrap="wrap",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in ("When", "IP", "Device", "Method", "Result")]
                )
            ),
            rx.table.body(
                rx.foreach(
                    A.history,
                    lambda e: rx.table.row(
                        *[rx.table.cell(getattr(e, k)) for k in ("at", "ip", "agent", "method", "result")]
                    ),
                )
            ),
            size="1",
            id="login-history",
        ),
    )


@area_page(Area.CUSTOMER, route=routes.ACCOUNT, title="Your account", on_load=A.load)
def account() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Your account", size="7"),
            rx.spacer(),
            rx.link("Security: 2FA and passkeys", href=routes.ACCOUNT_SECURITY, id="to-security"),
            width="100%",
        ),
        feedback(A.error, A.message),
        rx.grid(
            _profile(),
            _credentials(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        _sessions(),
        spacing="4",
        width="100%",
    )
