"""Platform admin sign-in, the audit trail and sign-in history; a reseller's own audit view."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, shell
from ezscale.pages.auth import feedback, field
from ezscale.state.admin_login import AdminLoginState as L
from ezscale.state.audit import AuditState as A

AUDIT_COLUMNS = [
    ("When", "at"),
    ("Tenant", "tenant"),
    ("Who", "actor"),
    ("Role", "role"),
    ("Action", "action"),
    ("Target", "target"),
    ("Changes", "changes"),
    ("IP", "ip"),
]
LOGIN_COLUMNS = [
    ("When", "at"),
    ("Who", "who"),
    ("IP", "ip"),
    ("Device", "agent"),
    ("Method", "method"),
    ("Result", "result"),
]


def table(rows, columns: list[tuple[str, str]], table_id: str, empty: str = "Nothing yet.") -> rx.Component:
    listing = rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(label) for label, _ in columns])),
            rx.table.body(
                rx.foreach(rows, lambda r: rx.table.row(*[rx.table.cell(r[key]) for _, key in columns]))
            ),
            size="1",
            width="100%",
            id=table_id,
        ),
        overflow_x="auto",
        width="100%",
    )
    return rx.cond(
        rows.length() > 0,
        listing,
        rx.text(empty, color_scheme="gray", size="2", id=f"{table_id}-empty"),
    )


def guarded(area: Area, title: str, content: rx.Component) -> rx.Component:
    """A signed-in area page: "Not allowed" instead of the content for the wrong role."""
    return shell(
        area,
        rx.vstack(
            rx.heading(title, size="7"),
            rx.cond(
                A.denied,
                rx.callout(
                    "Not allowed: your account cannot open this page.", color_scheme="red", id="not-allowed"
                ),
                rx.cond(A.signed_in, content, rx.spinner()),
            ),
            spacing="4",
            width="100%",
        ),
    )


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
    return shell(
        Area.ADMIN,
        rx.center(
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
        ),
    )


def admin_audit() -> rx.Component:
    filters = rx.form(
        rx.hstack(
            *[
                rx.input(
                    name=name, placeholder=label, default_value=A.filters[name], id=f"filter-{name}", size="2"
                )
                for name, label in [
                    ("tenant", "Tenant (name, slug or id)"),
                    ("actor", "Who (email)"),
                    ("action", "Action"),
                    ("since", "From (YYYY-MM-DD)"),
                    ("until", "To (YYYY-MM-DD)"),
                ]
            ],
            rx.button("Filter", type="submit", id="filter-submit"),
            wrap="wrap",
        ),
        on_submit=A.apply_filters,
        reset_on_submit=False,
    )
    return guarded(
        Area.ADMIN,
        "Audit trail",
        rx.vstack(
            filters,
            table(A.entries, AUDIT_COLUMNS, "audit-table", "No audit entries match: widen the filters."),
            width="100%",
        ),
    )


def admin_logins() -> rx.Component:
    pick = rx.form(
        rx.hstack(
            rx.input(name="slug", placeholder="Tenant slug (default: this site)", id="logins-tenant"),
            rx.button("Show", type="submit", id="logins-show"),
        ),
        on_submit=A.show_tenant_logins,
        reset_on_submit=False,
    )
    return guarded(
        Area.ADMIN, "Sign-in history", rx.vstack(pick, table(A.logins, LOGIN_COLUMNS, "logins-table"))
    )


def reseller_audit() -> rx.Component:
    return guarded(
        Area.RESELLER,
        "Audit trail and sign-ins",
        rx.vstack(
            table(A.entries, AUDIT_COLUMNS, "audit-table"),
            rx.heading("Sign-ins on this site", size="4"),
            table(A.logins, LOGIN_COLUMNS, "logins-table"),
            width="100%",
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(admin_login, route=routes.ADMIN_LOGIN, title="Admin sign-in", on_load=L.load_login)
    app.add_page(admin_audit, route=routes.ADMIN_AUDIT, title="Audit trail", on_load=A.load_admin_audit)
    app.add_page(
        admin_logins, route=routes.ADMIN_LOGINS, title="Sign-in history", on_load=A.load_admin_logins
    )
    app.add_page(
        reseller_audit, route=routes.RESELLER_AUDIT, title="Audit trail", on_load=A.load_reseller_audit
    )
