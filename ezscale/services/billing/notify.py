"""Billing emails through the mail service, sent after the billing transaction committed
(invoice mails are written with the invoice instead: `invoice_mail`)."""

import logging

from ezscale.errors import DomainError
from ezscale.services.billing.dunning import Notice
from ezscale.services.core.mail import send_mail
from ezscale.services.tenancy.tenants import TenantInfo

log = logging.getLogger(__name__)


def send(tenant: TenantInfo, notices: list[Notice]) -> int:
    """Send each notice; a bad address is logged, not fatal to the run. Returns how many went."""
    sent = 0
    for notice in notices:
        try:
            send_mail(tenant=tenant, to=notice.to, subject=notice.subject, text=notice.text, kind=notice.kind)
            sent += 1
        except DomainError as error:
            log.warning("billing mail to %s not sent: %s", notice.to, error)
    return sent
