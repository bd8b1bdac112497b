"""The audit trail and sign-in history for the platform admin; a reseller's own audit view."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_page
from ezscale.components.tables import table
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


_DENIED = "Not allowed: your account cannot open this page."


def _signed_in(content: rx.Component) -> rx.Component:
    """The content once the session is known (a spinner until then)."""
    return rx.cond(A.signed_in, content, rx.spinner())


@area_page(
    Area.ADMIN,
    route=routes.ADMIN_AUDIT,
    title="Audit trail",
    on_load=A.load_admin_audit,
    denied=A.denied,
    message=_DENIED,
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
    return _signed_in(
        rx.vstack(
            filters,
            table(A.entries, AUDIT_COLUMNS, "audit-table", "No audit entries match: widen the filters."),
            width="100%",
        )
    )


@area_page(
    Area.ADMIN,
    route=routes.ADMIN_LOGINS,
    title="Sign-in history",
    on_load=A.load_admin_logins,
    denied=A.denied,
    message=_DENIED,
)
def admin_logins() -> rx.Component:
    pick = rx.form(
        rx.hstack(
            rx.input(name="slug", placeholder="Tenant slug (default: this site)", id="logins-tenant"),
            rx.button("Show", type="submit", id="logins-show"),
            wrap="wrap",
        ),
        on_submit=A.show_tenant_logins,
        reset_on_submit=False,
    )
    return _signed_in(rx.vstack(pick, table(A.logins, LOGIN_COLUMNS, "logins-table"), width="100%"))


@area_page(
    Area.RESELLER,
    route=routes.RESELLER_AUDIT,
    title="Audit trail",
    on_load=A.load_reseller_audit,
    denied=A.denied,
    heading="Audit trail and sign-ins",
    message=_DENIED,
)
def reseller_audit() -> rx.Component:
    return _signed_in(
        rx.vstack(
            table(A.entries, AUDIT_COLUMNS, "audit-table"),
            rx.heading("Sign-ins on this site", size="4"),
            table(A.logins, LOGIN_COLUMNS, "logins-table"),
            width="100%",
        )
    )
