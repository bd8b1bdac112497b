"""A reseller's month in figures against hand-computed values (pro tier: 30 % off retail)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.tenant import Plan, Service, ServiceStatus
from ezscale.services.billing.usage_charges import record_usage_charge
from ezscale.services.resellers.usage_stats import month_start, usage_csv, usage_month
from ezscale.services.resellers.view import PlanMarginRow, UsageRow, usage_view
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.factories import add_customer


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _service(db, user_id: int, code: str, status=ServiceStatus.ACTIVE) -> int:
    plan = db.exec(select(Plan).where(Plan.code == code)).one()
    service = Service(user_id=user_id, plan_id=plan.id, status=status, created_at=at(2026, 10, 1))
    db.add(service)
    db.commit()
    return service.id


def _usage(db, user_id: int, service_id: int, hours: str, rate: str, ends: datetime, key: str) -> None:
    amount = int((Decimal(hours) * Decimal(rate) * 100).quantize(Decimal(1)))
    record_usage_charge(
        db,
        user_id=user_id,
        service_id=service_id,
        description="usage",
        quantity=Decimal(hours),
        unit_rate=Decimal(rate),
        amount_minor=amount,
        currency="USD",
        period_start=ends,
        period_end=ends,
        source_key=key,
    )


@pytest.fixture
def acme(make_tenant) -> TenantInfo:
    tenant = TenantInfo.of(make_tenant("acme", tier="pro"))
    with tenant_session(tenant) as db:
        ann = add_customer(db, "ann@example.com").id
        bob = add_customer(db, "bob@example.com").id
        ann_basic = _service(db, ann, "kasm-dev-basic")
        bob_pro = _service(db, bob, "kasm-dev-pro")
        _service(db, ann, "vps-2")
        _service(db, bob, "vps-2")
        _service(db, bob, "web-starter", status=ServiceStatus.SUSPENDED)
        _usage(db, ann, ann_basic, "10", "0.15", at(2026, 11, 5), "a1")  # $1.50
        _usage(db, ann, ann_basic, "2.5", "0.15", at(2026, 12, 1), "a2")  # ends on the boundary: November
        _usage(db, bob, bob_pro, "4", "0.30", at(2026, 11, 20), "b1")  # $1.20
        _usage(db, bob, bob_pro, "3", "0.30", at(2026, 12, 2), "b2")  # December
    return tenant


def test_a_month_by_customer_type_and_plan(acme):
    with tenant_session(acme) as db:
        report = usage_month(db, month=date(2026, 11, 1), currency="USD")
    assert [(u.label, u.hours, u.revenue_minor) for u in report.by_customer] == [
        ("ann@example.com", Decimal("12.5"), 150 + 38),  # 2.5 h × $0.15 = $0.375 → 38
        ("bob@example.com", Decimal(4), 120),
    ]
    assert [(u.label, u.hours, u.revenue_minor) for u in report.by_type] == [
        ("Developer Basic", Decimal("12.5"), 188),
        ("Developer Pro", Decimal(4), 120),
    ]
    assert (report.hours, report.revenue_minor) == (Decimal("16.5"), 308)
    plans = {p.plan: p for p in report.plans}
    vps = plans["VPS 2"]
    assert (vps.active, vps.retail, vps.wholesale, vps.margin) == (2, "$15.00", "$10.50", "$4.50")
    assert vps.monthly_margin_minor == 900
    assert plans["Web Hosting Starter"].active == 0  # suspended is not active
    basic = plans["Developer Basic"]
    assert (basic.retail, basic.wholesale, basic.margin, basic.monthly_margin_minor) == (
        "$0.15/hour",
        "$0.105/hour",
        "$0.045/hour",
        None,
    )

    view = usage_view(report)  # what the usage page shows
    assert (view.hours, view.revenue) == ("16.5", "$3.08")
    assert view.by_customer == [
        UsageRow("ann@example.com", "12.5", "$1.88"),
        UsageRow("bob@example.com", "4", "$1.20"),
    ]
    shown = {p.plan: p for p in view.plans}
    assert shown["VPS 2"] == PlanMarginRow("VPS 2", "2", "$15.00", "$10.50", "$4.50", "$9.00")
    assert shown["Developer Basic"].monthly == "—"

    name, text = usage_csv(report)
    assert name == "usage-2026-11.csv"
    lines = text.splitlines()
    assert lines[0] == "breakdown,name,hours_or_active,revenue_or_monthly_margin_USD"
    assert "customer,ann@example.com,12.5,1.88" in lines and "type,Developer Pro,4,1.20" in lines
    assert "plan,VPS 2,2,9.00" in lines


def test_an_empty_month_and_bad_months(acme):
    with tenant_session(acme) as db:
        report = usage_month(db, month=date(2026, 9, 1), currency="USD")
    assert report.by_customer == [] and report.by_type == [] and report.revenue_minor == 0
    today = date(2026, 11, 30)
    assert month_start("", today=today) == date(2026, 11, 1)
    assert month_start("2026-10", today=today) == date(2026, 10, 1)
    with pytest.raises(DomainError, match="YYYY-MM"):
        month_start("November", today=today)
    with pytest.raises(DomainError, match="not started"):
        month_start("2027-01", today=today)
