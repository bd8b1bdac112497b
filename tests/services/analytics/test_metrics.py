"""MRR, movements, churn, revenue, usage, conversion and aging on the hand-made dataset."""

from datetime import date
from decimal import Decimal

from ezscale.models.analytics import PlanChange
from ezscale.services.analytics.metrics import compute_days
from ezscale.services.billing import subscriptions
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.factories import add_customer, plan
from tests.services.analytics.dataset import build

D = Decimal


def _october(tenant):
    with tenant_session(tenant) as db:
        return compute_days(db, start=date(2026, 10, 1), end=date(2026, 10, 31))


def _sum(days, name):
    return sum((getattr(d, name) for d in days), start=type(getattr(days[0], name))(0))


def test_house_october(central, make_tenant, clock):
    house, _ = build(central, make_tenant)
    with tenant_session(house) as db:
        (sept30,) = compute_days(db, start=date(2026, 9, 30), end=date(2026, 9, 30))
    assert sept30.mrr == D(15900)  # Alice 1500 + Carol 12900 + Dan 1500
    assert sept30.paying_customers == 3

    days = _october(house)
    last = days[-1]
    # Alice 12900 + Bob 12000/12 + Carol 1500 + Erin 2999/3 (6 places) + Frank's usage 300 + 60.
    assert last.recurring_mrr == D("16399.666667")
    assert last.usage_mrr == D(360)
    assert last.mrr == D("16759.666667")
    assert last.paying_customers == 5
    assert _sum(days, "new_mrr") == D("2299.666667")  # Bob 1000 + Erin 999.666667 + Frank 300
    assert _sum(days, "expansion_mrr") == D(11460)  # Alice 11400 + Frank 60
    assert _sum(days, "contraction_mrr") == D(11400)  # Carol
    assert _sum(days, "churned_mrr") == D(1500)  # Dan
    assert last.mrr - sept30.mrr == D("2299.666667") + 11460 - 11400 - 1500
    assert (_sum(days, "new_customers"), _sum(days, "churned_customers")) == (3, 1)
    by_day = {d.day.day: d for d in days}
    assert by_day[10].expansion_mrr == D(11400)
    assert by_day[20].contraction_mrr == D(11400)
    assert by_day[15].churned_mrr == D(1500) and by_day[15].churned_customers == 1
    assert by_day[5].new_mrr == D("999.666667")
    # Revenue by payment date, before tax.
    assert _sum(days, "revenue_minor") == 12000 + 1500 + 2999
    assert _sum(days, "tax_minor") == 300
    assert (by_day[3].revenue_minor, by_day[6].revenue_minor, by_day[25].revenue_minor) == (12000, 1500, 2999)
    # Kasm usage: 10 h + 2 h.
    assert (_sum(days, "usage_seconds"), _sum(days, "usage_revenue_minor")) == (43200, 360)
    # Sign-ups Frank, Bob, Erin, Gina; first purchases Frank (workspace), Bob, Erin.
    assert (_sum(days, "signups"), _sum(days, "first_purchases")) == (4, 3)
    assert last.registered_customers == 7
    assert last.plans == {
        "dedi-e3": {"name": "Dedicated E-2388G", "active": 1},
        "vps-2": {"name": "VPS 2", "active": 1},
        "vps-annual": {"name": "VPS Annual", "active": 1},
        "vps-quarterly": {"name": "VPS Quarterly", "active": 1},
    }


def test_house_aging(central, make_tenant, clock):
    house, _ = build(central, make_tenant)
    days = {d.day.day: d for d in _october(house)}
    last = days[31]
    # At the end of 31 Oct: Frank 360 not yet due; Carol 46 days past due; Alice 78; Dan 109.
    assert (
        last.aging_0_30_minor,
        last.aging_31_60_minor,
        last.aging_61_90_minor,
        last.aging_90_plus_minor,
    ) == (
        360,
        12900,
        1500,
        1500,
    )
    assert (last.outstanding_minor, last.overdue_minor) == (16260, 15900)
    # On 20 Oct Erin's 2999 is 1 day past due (paid on the 25th); Frank's invoice is not issued yet.
    assert days[20].outstanding_minor == 2999 + 12900 + 1500 + 1500
    assert days[20].overdue_minor == days[20].outstanding_minor
    assert days[20].aging_0_30_minor == 2999


def test_reseller_october(central, make_tenant, clock):
    _, acme = build(central, make_tenant)
    days = _october(acme)
    assert days[0].mrr == D(2100) and days[-1].mrr == D(2100)  # Hank 600 + Jack 1500
    assert (_sum(days, "new_mrr"), _sum(days, "churned_mrr")) == (D(1500), D(1500))  # Ivy
    assert (_sum(days, "new_customers"), _sum(days, "churned_customers")) == (1, 1)
    assert _sum(days, "revenue_minor") == 600
    assert days[-1].plans == {
        "vps-1": {"name": "VPS 1", "active": 1},
        "vps-2": {"name": "VPS 2", "active": 1},
    }


def test_plan_change_through_billing_service_is_remembered(central, make_tenant, clock):
    tenant = make_tenant("shop")
    with tenant_session(TenantInfo.of(tenant)) as db:
        user = add_customer(db)
        sub, _ = subscriptions.subscribe(db, user_id=user.id, plan_id=plan(db, "vps-1").id)
        subscriptions.change_plan(db, subscription=sub, plan_id=plan(db, "vps-2").id)
        (change,) = db.exec(PlanChange.__table__.select()).all()
        assert (change.from_plan_id, change.to_plan_id) == (plan(db, "vps-1").id, plan(db, "vps-2").id)
        (today,) = compute_days(db, start=date(2026, 11, 1), end=date(2026, 11, 1))
    assert today.mrr == D(1500) and today.new_mrr == D(1500) and today.expansion_mrr == 0
