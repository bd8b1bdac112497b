"""Platform admin → Alerts: which events page the admins, where alerts go, a test alert."""

import reflex as rx

from ezscale.db import central_session
from ezscale.services.core.alert_policy import Channel, channels, current_policy, save_policy, send_test_alert
from ezscale.state.admin import AdminState
from ezscale.state.messages import attempt

_SWITCHES = ("provisioning_failures", "payment_failures", "billing_run_errors")


class AdminAlertsState(AdminState):
    switches: dict[str, bool] = dict.fromkeys(_SWITCHES, True)
    threshold: str = "3"
    channel_rows: list[Channel] = []
    updated: str = ""
    error: str = ""

    def _refresh(self) -> None:
        with central_session() as central:
            policy = current_policy(central)
        self.switches = {name: getattr(policy, name) for name in _SWITCHES}
        self.threshold = str(policy.payment_failure_threshold)
        self.channel_rows = channels()
        self.updated = (
            f"{policy.updated_at:%Y-%m-%d %H:%M} UTC by {policy.updated_by}" if policy.updated_by else ""
        )

    @rx.event
    def load(self):
        redirect, allowed = self._admin_guard()
        if allowed:
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
        except ValueError:
            self.error = "The threshold is a whole number."
            return None
        switches = {name: bool(self.switches.get(name)) for name in _SWITCHES}
        ip = self._ip()

        def run() -> None:
            with central_session() as central:
                save_policy(
                    central,
                    payment_failure_threshold=threshold,
                    updated_by=admin.email,
                    actor=admin,
                    ip=ip,
                    **switches,
                )

        _, self.error = attempt(run)
        if self.error:
            return None
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
