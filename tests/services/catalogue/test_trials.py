"""Trial days in the catalogue: the platform admin sets them on house plans, a reseller's owner
on its own plans (also when adding one from EZSCALE's catalogue); 0–90 whole days, clear errors,
nothing written on a bad value, audited; the storefront states the trial. A reseller's fixed
price in another currency is never below the wholesale price at today's rate."""

import pytest

from ezscale.errors import DomainError
from ezscale.services.catalogue.offers import add_offer
from ezscale.services.catalogue.plans import PlanForm, list_plans, set_currency_price, update_plan
from ezscale.services.catalogue.storefront import list_public_plans
from ezscale.services.fx import currencies
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import admin, audit_trail, owner, staff
from tests.factories import plan, tenant_db


@pytest.fixture
def house(make_tenant) -> TenantInfo:
    return TenantInfo.of(make_tenant("house", primary_domain="house.test", is_house=True))


@pytest.fixture
def acme(house, make_tenant) -> TenantInfo:
    return TenantInfo.of(make_tenant("acme", tier="pro"))  # 30 % off: VPS 2 wholesale $10.50


def _trial(tenant: TenantInfo, code: str) -> int:
    with tenant_db(tenant) as db:
        return plan(db, code).trial_days


def test_the_admin_sets_trial_days_on_a_house_plan(house):
    with tenant_db(house) as db:
        vps = plan(db, "vps-2")
        update_plan(db, actor=admin(house.id), tenant=house, plan_id=vps.id, form=PlanForm(trial_days=" 14 "))
        row = next(r for r in list_plans(db) if r.code == "vps-2")
        shown = {p.code: p for p in list_public_plans(db)}
    assert row.trial_days == 14
    assert shown["vps-2"].trial == "14-day free trial, then $15.00/mo; card required"
    assert shown["vps-1"].trial == ""
    assert audit_trail("plan.update")[-1][3]["trial_days"] == 14


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("91", "Trial days must be a whole number from 0 to 90"),
        ("-1", "Trial days must be a whole number from 0 to 90"),
        ("1.5", "Trial days must be a whole number from 0 to 90"),
        ("two weeks", "Trial days must be a whole number from 0 to 90"),
        ("１４", "Trial days must be a whole number from 0 to 90"),  # full-width digits
    ],
)
def test_bad_trial_days_are_refused_and_nothing_changes(acme, text, message):
    with tenant_db(acme) as db:
        vps = plan(db, "vps-2")
        form = PlanForm(trial_days=text, name="Renamed")
        with pytest.raises(DomainError, match=message):
            update_plan(db, actor=owner(acme), tenant=acme, plan_id=vps.id, form=form)
    with tenant_db(acme) as db:
        assert (plan(db, "vps-2").trial_days, plan(db, "vps-2").name) == (0, "VPS 2")


def test_hourly_plans_have_no_trial(acme):
    with tenant_db(acme) as db:
        kasm = plan(db, "kasm-dev-basic")
        with pytest.raises(DomainError, match="Hourly plans are paid by use and have no free trial"):
            update_plan(db, actor=owner(acme), tenant=acme, plan_id=kasm.id, form=PlanForm(trial_days="7"))
        update_plan(db, actor=owner(acme), tenant=acme, plan_id=kasm.id, form=PlanForm(trial_days="0"))


def test_the_owner_sets_trial_days_on_its_plans_and_staff_cannot(acme):
    with tenant_db(acme) as db:
        vps = plan(db, "vps-2")
        update_plan(db, actor=owner(acme), tenant=acme, plan_id=vps.id, form=PlanForm(trial_days="30"))
        with pytest.raises(DomainError, match="Only a platform admin or the reseller's owner"):
            update_plan(db, actor=staff(acme), tenant=acme, plan_id=vps.id, form=PlanForm(trial_days="90"))
        update_plan(db, actor=owner(acme), tenant=acme, plan_id=vps.id, form=PlanForm(trial_days=""))
    assert _trial(acme, "vps-2") == 0  # blank: no trial
    with tenant_db(acme) as db:
        added = add_offer(
            db,
            actor=owner(acme),
            tenant=acme,
            offer_code="vps-2",
            form=PlanForm(name="Starter VPS", price="12.00", trial_days="7", sort_order="3", setup_fee="2"),
        )
        assert (added.trial_days, added.sort_order, added.setup_fee_minor, added.active) == (7, 3, 200, True)
        with pytest.raises(DomainError, match="from 0 to 90"):
            add_offer(
                db,
                actor=owner(acme),
                tenant=acme,
                offer_code="vps-2",
                form=PlanForm(price="12", trial_days="x"),
            )


@pytest.fixture
def euro_acme(acme, rates_stored) -> TenantInfo:
    with tenant_db(acme) as db:
        currencies.update_currencies(
            db, actor=owner(acme), tenant=acme, enabled="USD EUR JPY", rounding="minor"
        )
    return acme


def test_a_fixed_price_in_another_currency_is_never_below_wholesale(euro_acme):
    """VPS 2 costs acme $10.50 wholesale: about €9.01 and 1,545 JPY at the stored rates."""
    acme = euro_acme
    with tenant_db(acme) as db:
        vps = plan(db, "vps-2")
        for currency, price in (("EUR", "9.00"), ("JPY", "1500")):
            with pytest.raises(DomainError, match=r"below the wholesale price \$10\.50"):
                set_currency_price(
                    db, actor=owner(acme), tenant=acme, plan_id=vps.id, currency=currency, price=price
                )
        set_currency_price(db, actor=owner(acme), tenant=acme, plan_id=vps.id, currency="EUR", price="9.99")
        set_currency_price(db, actor=owner(acme), tenant=acme, plan_id=vps.id, currency="JPY", price="1600")
    assert [a[3]["currency"] for a in audit_trail("plan.currency_price")] == ["EUR", "JPY"]


def test_a_fixed_hourly_rate_in_another_currency_is_never_below_wholesale(euro_acme):
    """Developer Basic costs acme $0.105/hour wholesale: about €0.09 at the stored rate."""
    acme = euro_acme
    with tenant_db(acme) as db:
        kasm = plan(db, "kasm-dev-basic")
        with pytest.raises(DomainError, match=r"below the wholesale rate"):
            set_currency_price(
                db, actor=owner(acme), tenant=acme, plan_id=kasm.id, currency="EUR", price="0.01"
            )
        set_currency_price(db, actor=owner(acme), tenant=acme, plan_id=kasm.id, currency="EUR", price="0.50")
