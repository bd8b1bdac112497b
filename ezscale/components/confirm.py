"""A confirmation dialog for destructive actions: says what will be lost before it happens."""

import reflex as rx


def confirm(
    trigger: rx.Component,
    *,
    title,
    warning,
    confirm_label: str,
    on_confirm,
    dialog_id: str | rx.Var = "",
) -> rx.Component:
    """`trigger` opens the dialog; only its red button runs `on_confirm`, Cancel changes nothing."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(warning, size="2"),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button("Cancel", variant="soft", color_scheme="gray", class_name="confirm-cancel")
                ),
                rx.alert_dialog.action(
                    rx.button(confirm_label, color_scheme="red", on_click=on_confirm, class_name="confirm-ok")
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
                wrap="wrap",
            ),
            id=dialog_id,
            class_name="confirm-dialog",
            max_width="440px",
        ),
    )
