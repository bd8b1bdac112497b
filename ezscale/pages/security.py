"""The signed-in user's second factors: authenticator app (TOTP), recovery codes and passkeys."""

import reflex as rx

from ezscale import routes
from ezscale.components.forms import feedback, field, section
from ezscale.components.layout import Area, area_page
from ezscale.services.accounts.passkeys import PasskeyRow
from ezscale.state.security import SecurityState as S


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
    return section(
        "Authenticator app (TOTP)",
        codes,
        rx.cond(
            S.totp_on,
            on,
            rx.cond(S.qr != "", enrol, rx.button("Set up", on_click=S.start_totp, id="totp-start")),
        ),
    )


def _passkeys() -> rx.Component:
    def row(key: PasskeyRow) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.form(
                    rx.hstack(
                        rx.input(name="name", default_value=key.name, size="1"),
                        rx.input(name="id", type="hidden", value=key.id.to_string()),
                        rx.button("Rename", size="1", variant="soft", type="submit"),
                    ),
                    on_submit=S.rename_passkey,
                    reset_on_submit=False,
                )
            ),
            rx.table.cell(key.added),
            rx.table.cell(
                rx.button("Remove", size="1", color_scheme="red", on_click=S.remove_passkey(key.id))
            ),
            class_name="passkey-row",
        )

    return section(
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


@area_page(Area.CUSTOMER, route=routes.ACCOUNT_SECURITY, title="Security", on_load=S.load)
def security() -> rx.Component:
    return rx.vstack(
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
    )
