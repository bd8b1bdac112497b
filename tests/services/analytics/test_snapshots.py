"""Daily snapshots: a past day recomputed idempotently; the dashboard folds them into months."""

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import select

from ezscale.demo.analytics_history import DOMAIN, seed_demo_history
from ezscale.models.analytics import PLATFORM_SCOPE, AnalyticsDay, tenant_scope
from ezscale.models.tenant import Invoice, InvoiceStatus, User
from ezscale.services.analytics.dashboard import load_dashboard
from ezscale.services.analytics.snapshots import snapshot_days
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.tasks.analytics import snapshot_day
from tests.services.analytics.dataset import at, build

D = Decimal
OCT1, OCT31 = date(2026, 10, 1), date(2026, 10, 31)


def _rows(central, day):
    central.expire_all()
    return central.exec(
        select(AnalyticsDay).where(AnalyticsDay.day == day).order_by(AnalyticsDay.scope)
    ).all()


def test_snapshot_task_recomputes_a_past_day_idempotently(central, make_tenant, clock):
    house, acme = build(central, make_tenant)
    report = snapshot_days(central, start=OCT1, end=OCT31)
    assert (report.tenants, report.failed) == (2, {})
    assert len(central.exec(select(AnalyticsDay)).all()) == 31 * 3

    first = {(r.scope, r.mrr, r.revenue_minor, r.churned_mrr) for r in _rows(central, date(2026, 10, 15))}
    # End of 15 Oct: house Alice 12900 + Bob 1000 + Carol 12900 + Erin 999.666667 + Frank 300
    # (Dan churned that day); acme Hank 600 + Jack 1500 + Ivy 1500.
    assert first == {
        (PLATFORM_SCOPE, D("31699.666667"), 0, D(1500)),
        (tenant_scope(house.id), D("28099.666667"), 0, D(1500)),
        (tenant_scope(acme.id), D(3600), 0, D(0)),
    }
    clock.advance(timedelta(hours=1))
    assert snapshot_day("2026-10-15")["rows"] == 2 + 1
    again = _rows(central, date(2026, 10, 15))
    assert len(again) == 3
    assert {(r.scope, r.mrr, r.revenue_minor) for r in again} == {(r[0], r[1], r[2]) for r in first}
    assert all(r.computed_at == clock.now() for r in again)

    # A late payment dated 15 Oct changes that day only, without a second row.
    with tenant_session(house) as db:
        invoice = db.exec(select(Invoice).where(Invoice.number == "INV-4")).one()
        invoice.status, invoice.paid_at, invoice.amount_paid_minor = InvoiceStatus.PAID, at(10, 15, 12), 12900
        db.add(invoice)
        db.commit()
    snapshot_day("2026-10-15")
    rows = {r.scope: r for r in _rows(central, date(2026, 10, 15))}
    assert len(rows) == 3
    assert rows[tenant_scope(house.id)].revenue_minor == 12900
    assert rows[PLATFORM_SCOPE].revenue_minor == 12900
    assert rows[tenant_scope(house.id)].aging_31_60_minor == 0


def test_yesterday_is_the_default_day(central, make_tenant, clock):
    build(central, make_tenant)
    assert snapshot_day()["day"] == "2026-10-31"


def test_dashboard_months_platform_and_tenant(central, make_tenant, clock):
    house, acme = build(central, make_tenant)
    snapshot_days(central, start=OCT1, end=OCT31)
    board = load_dashboard(central, scope_key=PLATFORM_SCOPE)
    (october,) = board.months
    # Platform: house 16759.666667 + acme 2100; start 15900 + 2100 = 18000 with 5 paying customers.
    assert october.mrr == D("18859.666667")
    assert october.arr == D("226316.000004")
    assert october.new_mrr == D("3799.666667")  # house 2299.666667 + Ivy 1500
    assert (october.expansion_mrr, october.contraction_mrr, october.churned_mrr) == (
        D(11460),
        D(11400),
        D(3000),
    )
    assert october.net_new_mrr == D("859.666667")
    assert (october.paying_customers, october.customer_growth) == (7, 2)
    assert october.logo_churn_rate == D("0.4000")  # Dan and Ivy of 5
    assert october.revenue_churn_rate == D("0.8000")  # (3000 + 11400) / 18000
    assert (october.revenue_minor, october.tax_minor) == (17099, 300)
    assert (october.usage_seconds, october.usage_revenue_minor) == (43200, 360)
    assert (october.signups, october.first_purchases, october.conversion_rate) == (5, 4, D("0.8000"))
    assert board.years == [(2026, 17099)]
    assert board.aging == [("0–30", 360), ("31–60", 12900), ("61–90", 1500), ("90+", 1500)]
    assert (board.outstanding_minor, board.overdue_minor) == (16260, 15900)
    assert board.plans[0] == ("VPS 2", 2)  # Carol (house) and Jack (acme)
    assert board.last_day == OCT31 and board.computed_at == clock.now()
    assert (board.live.today_revenue_minor, board.live.active_orders) == (0, 0)

    (acme_october,) = load_dashboard(central, scope_key=tenant_scope(acme.id)).months
    assert (acme_october.mrr, acme_october.logo_churn_rate, acme_october.revenue_churn_rate) == (
        D(2100),
        D("0.5000"),
        D("0.7143"),  # 1500 / 2100
    )
    (house_october,) = load_dashboard(central, scope_key=tenant_scope(house.id)).months
    assert house_october.logo_churn_rate == D("0.3333")  # Dan of Alice, Carol, Dan
    assert house_october.revenue_churn_rate == D("0.8113")  # (1500 + 11400) / 15900


def test_demo_history_is_added_once_and_snapshotted(central, make_tenant, clock):
    info = TenantInfo.of(make_tenant("house", is_house=True))
    first = seed_demo_history(central, tenant=info)
    second = seed_demo_history(central, tenant=info)
    assert (first.tenants, first.failed, second.rows) == (1, {}, first.rows)
    with tenant_session(info) as db:
        assert len(db.exec(select(User).where(User.email.endswith(DOMAIN))).all()) == 60
    rows = central.exec(select(AnalyticsDay)).all()
    assert len(rows) == 365 * 2  # the tenant and the platform, once per day
    (month,) = [
        m for m in load_dashboard(central, scope_key=PLATFORM_SCOPE).months if m.month == date(2026, 10, 1)
    ]
    assert month.mrr > 0 and month.revenue_minor > 0
