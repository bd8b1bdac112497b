"""The admin Overview's health figures: open invoices, failed payments in the last 7 days,
failed provisioning and alerts, summed over every tenant; quiet when nothing is wrong."""

from datetime import timedelta

from ezscale import clock as clock_module
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import Invoice, InvoiceStatus, Service, ServiceStatus
from ezscale.services.analytics.platform_health import platform_health
from ezscale.services.core.alerts import send_alert
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from tests.factories import add_customer, plan


def _by_id(central) -> dict:
    return {f.id: f for f in platform_health(central, now=clock_module.now())}


def _add(tenant: TenantInfo, *, open_minor: int, failed_at_days_ago: list[int], failed_service: bool) -> None:
    now = clock_module.now()
    with tenant_session(tenant) as db:
        user = add_customer(db)
        db.add(
            Invoice(
                user_id=user.id,
                status=InvoiceStatus.OPEN,
                currency="USD",
                total_minor=open_minor,
                created_at=now,
            )
        )
        db.add(
            Invoice(
                user_id=user.id, status=InvoiceStatus.PAID, currency="USD", total_minor=999, created_at=now
            )
        )
        for i, days in enumerate(failed_at_days_ago):
            at = now - timedelta(days=days)
            db.add(
                Payment(
                    user_id=user.id,
                    status=PaymentStatus.FAILED,
                    amount_minor=100,
                    currency="USD",
                    idempotency_key=f"{tenant.slug}-{i}",
                    created_at=at,
                    updated_at=at,
                )
            )
        if failed_service:
            db.add(
                Service(
                    user_id=user.id,
                    plan_id=plan(db, "vps-1").id,
                    label="VPS",
                    status=ServiceStatus.FAILED,
                    created_at=now,
                )
            )
        db.commit()


def test_health_sums_every_tenant_and_is_quiet_when_all_is_well(central, make_tenant, clock, monkeypatch):
    assert _by_id(central)["alerts"].value == "–"  # alerts are counted from the alert e-mails
    monkeypatch.setenv("ALERT_EMAIL", "oncall@example.test")
    get_settings.cache_clear()
    a, b = TenantInfo.of(make_tenant("alpha")), TenantInfo.of(make_tenant("beta"))
    quiet = _by_id(central)
    assert (quiet["open-invoices"].value, quiet["failed-payments"].value) == ("0", "0")
    assert (quiet["provisioning-failures"].value, quiet["alerts"].value) == ("0", "0")
    assert {f.tone for f in quiet.values() if f.id != "mrr-usd"} == {"ok"}
    assert quiet["mrr-usd"].hint == "analytics not computed yet"

    _add(a, open_minor=1250, failed_at_days_ago=[1, 8], failed_service=True)  # day 8: outside the week
    _add(b, open_minor=548, failed_at_days_ago=[0], failed_service=False)
    send_alert(title="Payments failing", message="3 payments of Alpha failed")
    health = _by_id(central)
    assert health["open-invoices"].value == "2"
    assert health["open-invoices"].hint == "$17.98 awaiting payment"
    assert (health["failed-payments"].value, health["failed-payments"].tone) == ("2", "bad")
    assert health["provisioning-failures"].value == "1"
    assert health["alerts"].value == "1" and health["alerts"].hint == "Payments failing"
