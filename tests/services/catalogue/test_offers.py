"""Resellers build their catalogue from EZSCALE's: house plans offered at the tier's wholesale
price, added to a storefront only when the owner chooses, never below wholesale."""

import pytest
from sqlmodel import select

from ezscale.errors import DomainError, NotFound
from ezscale.models.kasm import KasmType
from ezscale.models.tenant import Plan
from ezscale.services.catalogue.offers import add_offer, list_offers
from ezscale.services.catalogue.plans import PlanForm, create_plan
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.actors import admin, audit_trail, owner, staff


@pytest.fixture
def house_and_acme(make_tenant) -> tuple[TenantInfo, TenantInfo]:
    house = TenantInfo.of(make_tenant("house", primary_domain="house.test", is_house=True))
    return house, TenantInfo.of(make_tenant("acme", tier="pro"))  # pro: 30 % off


def test_a_new_house_plan_is_offered_to_resellers_but_not_copied(house_and_acme):
    house, acme = house_and_acme
    with tenant_session(house) as db:
        form = PlanForm(name="VPS 16", code="vps-16", service_type="vps", interval="monthly", price="80.00")
        create_plan(db, actor=admin(house.id), tenant=house, form=form)
    with tenant_session(acme) as db:
        offers = {o.code: o for o in list_offers(db, tenant=acme)}
        assert db.exec(select(Plan).where(Plan.code == "vps-16")).first() is None
    assert (offers["vps-16"].wholesale, offers["vps-16"].added) == ("$56.00", 0)
    assert offers["vps-2"].wholesale == "$10.50" and offers["vps-2"].added == 1  # the starting catalogue
    assert offers["kasm-dev-basic"].wholesale == "$0.105/hour"


def test_the_owner_adds_an_offer_as_its_own_plan(house_and_acme):
    _, acme = house_and_acme
    with tenant_session(acme) as db:
        with pytest.raises(DomainError, match="below the wholesale price"):
            add_offer(db, actor=owner(acme), tenant=acme, offer_code="vps-2", form=PlanForm(price="10.00"))
        with pytest.raises(DomainError, match="Only the reseller's owner"):
            add_offer(db, actor=staff(acme), tenant=acme, offer_code="vps-2", form=PlanForm(price="20.00"))
        with pytest.raises(NotFound):
            add_offer(db, actor=owner(acme), tenant=acme, offer_code="nope", form=PlanForm(price="20.00"))
        assert db.exec(select(Plan).where(Plan.base_code == "vps-2")).all() == []
        form = PlanForm(
            name="VPS Business", description="Managed", price="24.00", setup_fee="5.00", active=False
        )
        plan = add_offer(db, actor=owner(acme), tenant=acme, offer_code="vps-2", form=form)
        assert (plan.code, plan.base_code, plan.name, plan.price_minor, plan.setup_fee_minor) == (
            "vps-2-2",
            "vps-2",
            "VPS Business",
            2400,
            500,
        )
        assert (plan.wholesale_price_minor, plan.active, plan.billing_interval.value) == (
            1050,
            False,
            "monthly",
        )
        hourly = add_offer(
            db, actor=owner(acme), tenant=acme, offer_code="kasm-dev-pro", form=PlanForm(price="0.40")
        )
        assert (hourly.code, str(hourly.hourly_rate), str(hourly.wholesale_hourly_rate)) == (
            "kasm-dev-pro-2",
            "0.400000",
            "0.210000",
        )
        sized = db.exec(select(KasmType).where(KasmType.plan_id == hourly.id)).one()
        assert (sized.cores, sized.memory_mb) == (4, 8192)  # Developer Pro's size
    assert [a[2] for a in audit_trail("plan.create")] == [
        "tenant:acme/plan:vps-2-2",
        "tenant:acme/plan:kasm-dev-pro-2",
    ]
