"""Customer emails of the Kasm domain, sent through the platform's mail service."""

import logging

from ezscale.errors import DomainError
from ezscale.services.core.mail import send_mail
from ezscale.services.tenancy.tenants import TenantInfo

log = logging.getLogger(__name__)


def send_customer_mail(tenant: TenantInfo, *, to: str, subject: str, text: str, kind: str) -> None:
    """Send one email; a refused address is logged and never undoes the action that caused it."""
    try:
        send_mail(tenant=tenant, to=to, subject=subject, text=text, kind=kind)
    except DomainError as error:
        log.warning("mail to %s not sent: %s", to, error)
