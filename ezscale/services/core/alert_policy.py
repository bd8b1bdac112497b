"""When to page the on-call admins, on top of the alert service (`services/core/alerts.py`), which
delivers to the channels configured in the environment (Discord webhook, e-mail).

Jobs that raise alerts ask `should_alert(...)` first, so admins can mute a category or raise
the payment-failure threshold from the admin area without a deploy.
"""

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.admin import AlertPolicy
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.alerts import send_alert
from ezscale.services.core.audit import record_audit
from ezscale.settings import get_settings


class AlertCategory(StrEnum):
    """What an admin alert is about; each category can be switched off in the policy."""

    PROVISIONING = "provisioning"
    PAYMENT = "payment"
    BILLING_RUN = "billing_run"


@dataclass(frozen=True)
class Channel:
    """One configured alert destination (as the admin page lists it): its kind and target."""

    kind: str
    target: str


def current_policy(central: Session) -> AlertPolicy:
    """The saved policy, or the defaults (everything on, threshold 3) if none was saved."""
    return central.exec(select(AlertPolicy).order_by(col(AlertPolicy.id))).first() or AlertPolicy(
        updated_at=clock.now()
    )


def save_policy(
    central: Session,
    *,
    provisioning_failures: bool,
    payment_failures: bool,
    payment_failure_threshold: int,
    billing_run_errors: bool,
    updated_by: str,
    actor: AuthUser | None = None,
    ip: str = "",
) -> AlertPolicy:
    """Save the platform's alert policy (one row; the failure threshold must be 1-1000), audited in
    the same transaction when an `actor` changed it."""
    if not 1 <= payment_failure_threshold <= 1000:
        raise DomainError("The payment failure threshold is a whole number from 1 to 1000.")
    policy = central.exec(select(AlertPolicy).order_by(col(AlertPolicy.id))).first() or AlertPolicy()
    policy.provisioning_failures, policy.payment_failures = provisioning_failures, payment_failures
    policy.payment_failure_threshold, policy.billing_run_errors = (
        payment_failure_threshold,
        billing_run_errors,
    )
    policy.updated_by, policy.updated_at = updated_by, clock.now()
    central.add(policy)
    if actor is not None:
        after = {
            "provisioning_failures": provisioning_failures,
            "payment_failures": payment_failures,
            "billing_run_errors": billing_run_errors,
            "threshold": payment_failure_threshold,
        }
        record_audit(session=central, actor=actor, action="alerts.policy", after=after, ip=ip)
    central.commit()
    return policy


def should_alert(central: Session, *, category: AlertCategory, failures: int = 1) -> bool:
    """Whether an event of this category (with `failures` in the last 24 h) pages the admins."""
    policy = current_policy(central)
    if category is AlertCategory.PROVISIONING:
        return policy.provisioning_failures
    if category is AlertCategory.PAYMENT:
        return policy.payment_failures and failures >= policy.payment_failure_threshold
    return policy.billing_run_errors


def channels() -> list[Channel]:
    """Where alerts go (from the environment); the webhook's secret path is not shown."""
    settings = get_settings()
    found = []
    if settings.alert_discord_webhook_url:
        base = settings.alert_discord_webhook_url.split("/api/webhooks/")[0]
        found.append(Channel("Discord webhook", f"{base}/api/webhooks/…"))
    if settings.alert_email:
        found.append(Channel("E-mail", settings.alert_email))
    return found


def send_test_alert(*, sent_by: str) -> bool:
    """Send a test alert through every configured channel; returns whether any channel took it."""
    return send_alert(title="Test alert", message=f"A test alert sent by {sent_by} from the admin area.")


def raise_alert(
    category: AlertCategory,
    *,
    title: str,
    message: str,
    fields: dict[str, str] | None = None,
    failures: int = 1,
) -> bool:
    """The one way jobs page the admins: sent only if the saved policy wants this category."""
    with central_session() as central:
        wanted = should_alert(central, category=category, failures=failures)
    return wanted and send_alert(title=title, message=message, fields=fields)
