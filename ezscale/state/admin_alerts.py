"""Platform admin → Alerts: which events page the admins, where alerts go, a test alert."""

import reflex as rx

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.services.core.alert_policy import channels, current_policy, save_policy, send_test_alert
from ezscale.services.core.audit import record_audit
from ezscale.state.auth import AuthState

_SWITCHES = ("provisioning_failures", "payment_failures", "billing_run_errors")


class AdminAlertsState(AuthState):
    switches: dict[str, bool] = dict.fromkeys(_SWITCHES, True)
    threshold: str = "3"
    channel_rows: list[dict[str, str]] = []
    updated: str = ""
    error: str = ""

    def _refresh(self) -> None:
        with central_session() as central:
            policy = current_policy(central)
        self.switches = {name: getattr(policy, name) for name in _SWITCHES}
        self.threshold = str(policy.payment_failure_threshold)
        self.channel_rows = [{"kind": c.kind, "target": c.target} for c in channels()]
        self.updated = (
            f"{policy.updated_at:%Y-%m-%d %H:%M} UTC by {policy.updated_by}" if policy.updated_by else ""
        )

    @rx.event
    def load(self):
        redirect = self.require_admin()
        if redirect is None and not self.denied:
            self._refresh()
        return redirect

    @rx.event
    def set_switch(self, name: str, value: bool):
        if name in _SWITCHES:
            self.switches = {**self.switches, name: bool(value)}

    @rx.event
    def set_threshold(self, value: str):
        self.threshold = value[:6]

    @rx.event
    def save(self):
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return None
        try:
            threshold = int(self.threshold)
            switches = {name: bool(self.switches.get(name)) for name in _SWITCHES}
            with central_session() as central:
                save_policy(central, payment_failure_threshold=threshold, updated_by=admin.email, **switches)
        except (ValueError, DomainError) as error:
            self.error = str(error) if isinstance(error, DomainError) else "The threshold is a whole number."
            return None
        record_audit(
            actor=admin,
            action="alerts.policy",
            after={**self.switches, "threshold": threshold},
            ip=self.router.session.client_ip,
        )
        self.error = ""
        self._refresh()
        return rx.toast.success("Alert settings saved.")

    @rx.event
    def test_alert(self):
        admin = self._admin()
        if admin is None:
            self.error = "Not allowed."
            return None
        if send_test_alert(sent_by=admin.email):
            return rx.toast.success("Test alert sent.")
        return rx.toast.error("No channel accepted the alert; check ALERT_DISCORD_WEBHOOK_URL / ALERT_EMAIL.")
