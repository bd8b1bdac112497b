"""One customer's record as staff see it — profile, actions, services, invoices, payments,
credit, sign-ins, notes and timeline — for any state built on `CustomerRecordMixin`. Actions the
viewer's role does not allow (`C.can`) are not shown."""

import reflex as rx

from ezscale.components.confirm import confirm
from ezscale.components.tables import cell_table
from ezscale.services.customers.view import RecordInvoiceRow, RecordPaymentRow, RecordServiceRow


def _can(C, permission: str):
    return C.can.contains(permission)


def _field(C, label: str, field: str, **props) -> rx.Component:
    return rx.input(
        placeholder=label,
        value=C.form.get(field, ""),
        on_change=lambda v: C.set_form(field, v),
        id=f"form-{field}",
        **props,
    )


def _amount_and_reason(C, label: str, prefix: str) -> rx.Component:
    """The amount and reason of a money action on the table's rows (credit note, refund)."""
    return rx.cond(
        _can(C, "money"),
        rx.hstack(_field(C, label, f"{prefix}_amount"), _field(C, "Reason", f"{prefix}_reason")),
    )


def _actions(C) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Actions", size="3"),
            rx.cond(
                _can(C, "money"),
                rx.vstack(
                    rx.hstack(
                        _field(C, "Amount (± for credit)", "credit_amount"),
                        _field(C, "Reason", "credit_memo"),
                        rx.button("Add credit", on_click=C.add_credit, id="add-credit"),
                        wrap="wrap",
                    ),
                    rx.hstack(
                        _field(C, "Amount", "charge_amount"),
                        _field(C, "Description", "charge_text"),
                        rx.button("Charge", on_click=C.charge, id="charge"),
                        wrap="wrap",
                    ),
                    spacing="2",
                ),
            ),
            rx.hstack(
                _field(C, "Note", "note", max_width="320px", width="100%"),
                rx.button("Add note", on_click=C.add_note, id="add-note"),
                wrap="wrap",
            ),
            rx.cond(
                _can(C, "account"),
                rx.hstack(
                    rx.button("Reset 2FA", on_click=C.reset_two_factor, variant="soft", id="reset-2fa"),
                    rx.cond(
                        C.profile.verified == "no",
                        rx.button(
                            "Resend verification",
                            on_click=C.resend_verification,
                            variant="soft",
                            id="resend-verification",
                        ),
                    ),
                    rx.button(
                        "Log in as customer", on_click=C.impersonate, color_scheme="orange", id="impersonate"
                    ),
                    wrap="wrap",
                ),
            ),
            spacing="2",
        )
    )


def _profile(C) -> rx.Component:
    return rx.card(
        rx.data_list.root(
            *[
                rx.data_list.item(rx.data_list.label(label), rx.data_list.value(getattr(C.profile, key)))
                for label, key in (
                    ("Tenant", "tenant"),
                    ("E-mail", "email"),
                    ("Name", "name"),
                    ("Company", "company"),
                    ("Country", "country"),
                    ("Joined", "joined"),
                    ("Two-factor", "two_factor"),
                    ("E-mail confirmed", "verified"),
                    ("Status", "status"),
                    ("Credit balance", "balance"),
                )
            ]
        ),
        id="customer-profile",
    )


def _service_cells(C, s: RecordServiceRow) -> list[rx.Component]:
    # The admin's record links each service to its provisioning page (jobs, log, retry, sync).
    base = getattr(C, "provisioning_base", None)
    label = (
        s.label
        if base is None
        else rx.link(s.label, href=base + s.id.to_string(), class_name="service-provisioning")
    )
    return [
        rx.table.cell(label),
        rx.table.cell(s.plan),
        rx.table.cell(rx.badge(s.status)),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    _can(C, "services") & s.actions.contains(" suspend "),
                    rx.button(
                        "Suspend", size="1", variant="soft", on_click=C.service_action(s.id, "suspend")
                    ),
                ),
                rx.cond(
                    _can(C, "services") & s.actions.contains(" unsuspend "),
                    rx.button(
                        "Unsuspend", size="1", variant="soft", on_click=C.service_action(s.id, "unsuspend")
                    ),
                ),
                rx.cond(
                    _can(C, "services") & s.actions.contains(" terminate "),
                    confirm(
                        rx.button("Terminate", size="1", variant="soft", color_scheme="red"),
                        title=rx.text.span("Terminate ", s.label, "?"),
                        warning="The service ends now: its subscription is cancelled without a refund of the "
                        "period and a workspace is deleted with its files. This cannot be undone.",
                        confirm_label="Terminate service",
                        on_confirm=C.service_action(s.id, "terminate"),
                    ),
                ),
                rx.cond((s.actions == "") | ~_can(C, "services"), rx.text("—", color_scheme="gray")),
                spacing="2",
            ),
            custom_attrs={"data-actions": s.actions},
        ),
    ]


def _money_cells(
    C, row: RecordInvoiceRow | RecordPaymentRow, fields: tuple[str, ...], action: rx.Component
) -> list[rx.Component]:
    """A row's text cells, then its money action (shown only to staff allowed money actions)."""
    return [
        *(rx.table.cell(getattr(row, f)) for f in fields),
        rx.table.cell(rx.cond(_can(C, "money"), action)),
    ]


def _invoice_cells(C, i: RecordInvoiceRow) -> list[rx.Component]:
    credit_note = rx.button("Credit note", size="1", variant="soft", on_click=C.credit_note(i.id))
    return _money_cells(C, i, ("number", "kind", "status", "total", "issued", "paid"), credit_note)


def _payment_cells(C, p: RecordPaymentRow) -> list[rx.Component]:
    refund = rx.button("Refund", size="1", variant="soft", color_scheme="red", on_click=C.refund(p.id))
    return _money_cells(C, p, ("at", "invoice", "status", "gateway", "amount", "refunded"), refund)


def customer_record(C) -> rx.Component:
    """The record page's content for state class `C`."""
    return rx.vstack(
        rx.cond(C.error != "", rx.callout(C.error, color_scheme="red", id="customer-error")),
        rx.grid(
            _profile(C), _actions(C), columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"
        ),
        rx.heading("Services", size="4"),
        cell_table(
            ["Service", "Plan", "Status", ""],
            C.services,
            lambda s: _service_cells(C, s),
            "customer-services",
            "No services.",
        ),
        rx.heading("Invoices", size="4"),
        _amount_and_reason(C, "Credit note amount", "cn"),
        cell_table(
            ["Number", "Kind", "Status", "Total", "Issued", "Paid", ""],
            C.invoices,
            lambda i: _invoice_cells(C, i),
            "customer-invoices",
            "No invoices.",
        ),
        rx.heading("Card payments", size="4"),
        _amount_and_reason(C, "Refund amount", "refund"),
        cell_table(
            ["When", "Invoice", "Status", "Via", "Amount", "Refunded", ""],
            C.payments,
            lambda p: _payment_cells(C, p),
            "customer-payments",
            "No card payments.",
        ),
        rx.heading("Credit ledger", size="4"),
        cell_table(
            ["When", "Kind", "Amount", "Memo"],
            C.credits,
            lambda c: [rx.table.cell(getattr(c, k)) for k in ("at", "kind", "amount", "memo")],
            "customer-credits",
            "No credit entries.",
        ),
        rx.heading("Login history", size="4"),
        cell_table(
            ["When", "From", "Method", "Result"],
            C.logins,
            lambda e: [rx.table.cell(getattr(e, k)) for k in ("at", "ip", "method", "result")],
            "customer-logins",
            "No sign-ins yet.",
        ),
        rx.heading("Notes", size="4"),
        cell_table(
            ["When", "By", "Note"],
            C.notes,
            lambda n: [rx.table.cell(getattr(n, k)) for k in ("at", "author", "body")],
            "customer-notes",
            "No notes yet: add one under Actions.",
        ),
        rx.heading("Timeline", size="4"),
        cell_table(
            ["When", "What", ""],
            C.timeline,
            lambda t: [rx.table.cell(getattr(t, k)) for k in ("at", "kind", "text")],
            "customer-timeline",
        ),
        width="100%",
        spacing="3",
    )
