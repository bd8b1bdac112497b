"""Billing pages the admins through the alert policy: failed payments over the threshold, and
runs that crash; provisioning alerts obey the same switches."""

import pytest

from ezscale import clock
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import Role, User
from ezscale.services.billing.monitoring import alert_on_payment_failures
from ezscale.services.core.alert_policy import AlertCategory, raise_alert, save_policy
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from ezscale.simulators.discord import DiscordSink, serve_discord
from ezscale.tasks.billing import _run


@pytest.fixture
def sink(platform, monkeypatch):
    received = DiscordSink()
    server = serve_discord(received)
    monkeypatch.setenv("ALERT_DISCORD_WEBHOOK_URL", f"{server.url}/api/webhooks/1/token")
    get_settings.cache_clear()
    yield received
    server.stop()


def _policy(central, **changes) -> None:
    values = {
        "provisioning_failures": True,
        "payment_failures": True,
        "payment_failure_threshold": 2,
        "billing_run_errors": True,
        **changes,
    }
    save_policy(central, updated_by="admin@example.test", **values)


def _fail_payment(db, user_id: int, n: int) -> None:
    now = clock.now()
    db.add(
        Payment(
            user_id=user_id,
            status=PaymentStatus.FAILED,
            amount_minor=500,
            currency="USD",
            idempotency_key=f"k{n}",
            created_at=now,
            updated_at=now,
        )
    )
    db.commit()


def test_failed_payments_alert_once_they_reach_the_threshold(make_tenant, central, sink):
    tenant = TenantInfo.of(make_tenant("acme"))
    _policy(central, payment_failure_threshold=2)
    with tenant_session(tenant) as db:
        user = User(email="c@acme.test", password_hash="x", role=Role.CUSTOMER, created_at=clock.now())
        db.add(user)
        db.commit()
        _fail_payment(db, user.id, 1)
        assert alert_on_payment_failures(db, tenant=tenant) is False
        _fail_payment(db, user.id, 2)
        assert alert_on_payment_failures(db, tenant=tenant) is True
    (message,) = sink.messages
    assert "2 payments of Acme failed" in message["embeds"][0]["description"]


def test_a_crashed_billing_run_alerts_and_still_fails(make_tenant, central, sink):
    tenant = TenantInfo.of(make_tenant("acme"))

    def broken_run(session, *, tenant):
        raise RuntimeError("database went away")

    with tenant_session(tenant) as db, pytest.raises(RuntimeError):
        _run(db, tenant, "daily", broken_run)
    (message,) = sink.messages
    assert message["embeds"][0]["title"] == "Billing run failed: daily"
    assert "database went away" in message["embeds"][0]["description"]


def test_muted_categories_send_nothing(central, sink):
    _policy(central, provisioning_failures=False, billing_run_errors=False)
    assert raise_alert(AlertCategory.PROVISIONING, title="x", message="y") is False
    assert raise_alert(AlertCategory.BILLING_RUN, title="x", message="y") is False
    assert sink.messages == []
