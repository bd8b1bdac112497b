"""The signed-in user's account: profile, email, password, sessions, history, 2FA and passkeys."""

import reflex as rx

from ezscale import routes
from ezscale.components.confirm import confirm
from ezscale.components.layout import Area, shell
from ezscale.pages.auth import feedback, field
from ezscale.state.account import AccountState as A
from ezscale.state.security import SecurityState as S


def _section(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4"), *children, spacing="3", width="100%"), width="100%", **props
    )


def _profile() -> rx.Component:
    def prefilled(label: str, name: str) -> rx.Component:
        return rx.vstack(
            rx.text(label, size="2", weight="medium"),
            rx.input(name=name, default_value=A.profile[name], id=f"profile-{name}", width="100%"),
            spacing="1",
            width="100%",
        )

    return _section(
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
    return _section(
        "Email and password",
        rx.text("Signed in as ", rx.code(A.profile["email"])),
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
    return _section(
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
                        *[rx.table.cell(e[k]) for k in ("at", "ip", "agent", "method", "result")]
                    ),
                )
            ),
            size="1",
            id="login-history",
        ),
    )


def account() -> rx.Component:
    return shell(
        Area.CUSTOMER,
        rx.vstack(
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
        ),
    )


def _totp() -> rx.Component:
    enrol = rx.vstack(
        rx.text("Scan this QR code with your authenticator app, then enter the code it shows."),
        rx.image(src=S.qr, width="200px", height="200px", alt="TOTP QR code", id="totp-qr"),
        rx.text("Or enter this key: ", rx.code(S.secret, id="totp-secret"), size="2"),
        rx.form(
            rx.hstack(
                field("Code", "code", auto_complete="one-time-code"),
                rx.button("Confirm", type="submit", id="totp-confirm"),
                align="end",
            ),
            on_submit=S.confirm_totp,
        ),
    )
    on = rx.vstack(
        rx.badge("On", color_scheme="green", id="totp-on"),
        rx.text(S.codes_left, " recovery codes left."),
        rx.button("New recovery codes", variant="soft", on_click=S.new_recovery_codes, id="codes-new"),
        rx.form(
            rx.hstack(
                field("Password", "password", "password"),
                rx.button("Turn off", color_scheme="red", type="submit"),
                align="end",
            ),
            on_submit=S.disable_totp,
        ),
    )
    codes = rx.cond(
        S.recovery_codes.length() > 0,
        rx.callout(
            rx.vstack(
                rx.text("Recovery codes (shown once; each works once):", weight="bold"),
                rx.grid(
                    rx.foreach(S.recovery_codes, lambda c: rx.code(c, class_name="recovery-code")),
                    columns="2",
                    spacing="2",
                ),
            ),
            color_scheme="amber",
            id="recovery-codes",
        ),
    )
    return _section(
        "Authenticator app (TOTP)",
        codes,
        rx.cond(
            S.totp_on,
            on,
            rx.cond(S.qr != "", enrol, rx.button("Set up", on_click=S.start_totp, id="totp-start")),
        ),
    )


def _passkeys() -> rx.Component:
    def row(key: dict) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.form(
                    rx.hstack(
                        rx.input(name="name", default_value=key["name"], size="1"),
                        rx.input(name="id", type="hidden", value=key["id"]),
                        rx.button("Rename", size="1", variant="soft", type="submit"),
                    ),
                    on_submit=S.rename_passkey,
                    reset_on_submit=False,
                )
            ),
            rx.table.cell(key["added"]),
            rx.table.cell(
                rx.button("Remove", size="1", color_scheme="red", on_click=S.remove_passkey(key["id"]))
            ),
            class_name="passkey-row",
        )

    return _section(
        "Passkeys",
        rx.text("Sign in with your fingerprint, face or security key instead of a password on this site."),
        rx.table.root(rx.table.body(rx.foreach(S.keys, row)), size="1", id="passkeys"),
        rx.hstack(
            rx.input(
                placeholder="Name, e.g. Laptop",
                value=S.passkey_name,
                on_change=S.set_passkey_name,
                id="passkey-name",
            ),
            rx.button(rx.icon("key_round"), "Add a passkey", on_click=S.start_passkey, id="passkey-add"),
        ),
    )


def security() -> rx.Component:
    return shell(
        Area.CUSTOMER,
        rx.vstack(
            rx.hstack(
                rx.heading("Security", size="7"),
                rx.spacer(),
                rx.link("Account", href=routes.ACCOUNT),
                width="100%",
            ),
            feedback(S.error, S.message),
            _totp(),
            _passkeys(),
            spacing="4",
            width="100%",
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(account, route=routes.ACCOUNT, title="Your account", on_load=A.load)
    app.add_page(security, route=routes.ACCOUNT_SECURITY, title="Security", on_load=S.load)
