"""The demo outbox: mail "sent" to this host's tenant (and, on the platform's host, the platform's
own mail) when no SMTP server is configured."""

import reflex as rx

from ezscale.services.core.mail import OutboxRow, outbox_rows
from ezscale.settings import get_settings
from ezscale.state.site import SiteState


class OutboxState(SiteState):
    enabled: bool = False
    mails: list[OutboxRow] = []

    @rx.event
    def load(self):
        self.enabled = get_settings().dev_outbox
        tenant = self._resolve()
        if not self.enabled or tenant is None:
            self.mails = []
            return
        self.mails = outbox_rows(tenant)
