"""Demo outbox: the mail this site "sent" (no SMTP configured), with clickable links."""

import reflex as rx

from ezscale import routes
from ezscale.components.layout import Area, area_page
from ezscale.services.core.mail import OutboxRow
from ezscale.state.outbox import OutboxState as O


def _mail(mail: OutboxRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(mail.subject, weight="bold"), rx.spacer(), rx.text(mail.at, size="1")),
            rx.text("To ", rx.code(mail.to_address), " from ", mail.sender, size="2", color_scheme="gray"),
            rx.text(mail.text, white_space="pre-wrap", size="2"),
            rx.foreach(mail.links, lambda url: rx.link(url, href=url, class_name="outbox-link")),
            spacing="2",
        ),
        class_name="outbox-mail",
        data_to=mail.to_address,
        width="100%",
    )


@area_page(Area.STOREFRONT, route=routes.DEV_OUTBOX, title="Outbox", on_load=O.load)
def outbox() -> rx.Component:
    return rx.vstack(
        rx.heading("Outbox (demo)", size="7"),
        rx.cond(
            O.enabled,
            rx.vstack(
                rx.text("No mail server is configured: the messages this site sent are shown here."),
                rx.foreach(O.mails, _mail),
                width="100%",
            ),
            rx.callout("The outbox is switched off on this installation.", id="outbox-off"),
        ),
        spacing="4",
        width="100%",
    )
