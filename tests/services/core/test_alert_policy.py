"""The alert policy: defaults, saving, thresholds, channels shown masked, a test alert delivered."""

import pytest

from ezscale.errors import DomainError
from ezscale.services.core.alert_policy import (
    AlertCategory,
    Channel,
    channels,
    current_policy,
    save_policy,
    send_test_alert,
    should_alert,
)
from ezscale.settings import get_settings
from ezscale.simulators.discord import DiscordSink, serve_discord
from tests.actors import admin, audit_trail


def test_policy_defaults_save_and_thresholds(central, clock):
    assert current_policy(central).payment_failure_threshold == 3
    assert should_alert(central, category=AlertCategory.PAYMENT, failures=2) is False
    assert should_alert(central, category=AlertCategory.PAYMENT, failures=3) is True
    save_policy(
        central,
        provisioning_failures=False,
        payment_failures=True,
        payment_failure_threshold=5,
        billing_run_errors=True,
        updated_by="admin@example.test",
    )
    assert should_alert(central, category=AlertCategory.PROVISIONING) is False
    assert should_alert(central, category=AlertCategory.PAYMENT, failures=4) is False
    assert should_alert(central, category=AlertCategory.PAYMENT, failures=5) is True
    assert should_alert(central, category=AlertCategory.BILLING_RUN) is True
    with pytest.raises(DomainError):
        save_policy(
            central,
            provisioning_failures=True,
            payment_failures=True,
            payment_failure_threshold=0,
            billing_run_errors=True,
            updated_by="admin@example.test",
        )
    assert current_policy(central).payment_failure_threshold == 5  # unchanged by the refusal


def test_channels_and_test_alert(platform, monkeypatch):
    sink = DiscordSink()
    server = serve_discord(sink)
    try:
        monkeypatch.setenv("ALERT_DISCORD_WEBHOOK_URL", f"{server.url}/api/webhooks/1/secret-token")
        get_settings.cache_clear()
        assert channels() == [Channel("Discord webhook", f"{server.url}/api/webhooks/…")]
        assert send_test_alert(sent_by="admin@example.test") is True
        (message,) = sink.messages
        assert "Test alert" in message["content"]
        assert "admin@example.test" in message["embeds"][0]["description"]
    finally:
        server.stop()
        get_settings.cache_clear()


def test_a_policy_change_by_an_admin_is_audited_in_the_same_transaction(central, clock):
    switches = {"provisioning_failures": True, "payment_failures": False, "billing_run_errors": True}
    with pytest.raises(DomainError):
        save_policy(central, payment_failure_threshold=0, updated_by="a", actor=admin(), **switches)
    assert audit_trail("alerts.") == []
    save_policy(
        central,
        payment_failure_threshold=7,
        updated_by="admin@ezscale.test",
        actor=admin(),
        ip="192.0.2.11",
        **switches,
    )
    assert audit_trail("alerts.") == [
        ("admin@ezscale.test", "alerts.policy", "", {**switches, "threshold": 7}, "192.0.2.11")
    ]
