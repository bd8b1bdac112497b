"""Admin alerts: one call posts to the Discord webhook and emails the on-call address.

Delivery problems are logged, never raised: an alert must not turn a handled failure into a
crash of the job that reports it.
"""

import logging

import httpx

from ezscale.errors import DomainError
from ezscale.services.core.mail import send_mail
from ezscale.settings import get_settings

log = logging.getLogger(__name__)


def send_alert(*, title: str, message: str, fields: dict[str, str] | None = None) -> bool:
    """Send an alert to every configured channel; returns True if at least one accepted it."""
    settings = get_settings()
    delivered = False
    if settings.alert_discord_webhook_url:
        embed = {
            "title": title[:256],
            "description": message[:4000],
            "color": 0xE11D48,
            "fields": [
                {"name": k[:256], "value": str(v)[:1024], "inline": True} for k, v in (fields or {}).items()
            ],
        }
        try:
            response = httpx.post(
                settings.alert_discord_webhook_url,
                json={"content": f"**{title}**"[:2000], "embeds": [embed]},
                timeout=5.0,
            )
            response.raise_for_status()
            delivered = True
        except httpx.HTTPError as error:
            log.warning("discord alert failed: %s", error)
    if settings.alert_email:
        delivered = _email_alert(settings.alert_email, title, message, fields or {}) or delivered
    if not delivered:
        log.error("alert (no channel delivered it): %s: %s", title, message)
    return delivered


def _email_alert(to: str, title: str, message: str, fields: dict[str, str]) -> bool:
    text = "\n".join([message, "", *(f"{k}: {v}" for k, v in fields.items())])
    try:
        send_mail(tenant=None, to=to, subject=f"[EZSCALE alert] {title}", text=text, kind="alert")
    except DomainError as error:
        log.warning("email alert not sent: %s", error)
        return False
    return True
