import json
from decimal import Decimal

import pytest
from sqlmodel import func, select

from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.auth import AuditEntry
from ezscale.models.tenant import BillingInterval, Plan
from ezscale.services.accounts.sessions import AuthRole, AuthUser
from ezscale.services.catalogue.plans import (
    PlanForm,
    create_plan,
    list_plans,
    set_wholesale_price,
    update_plan,
)
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

NEW = {
    "name": "GPU 1",
    "code": "gpu-1",
    "description": "1 × L4",
    "service_type": "vps",
    "interval": "monthly",
    "price": "49.00",
    "setup_fee": "10",
    "active": True,
    "sort_order": "",
}


@pytest.fixture
def house(make_tenant, clock) -> TenantInfo:
    return TenantInfo.of(make_tenant("ezscale", is_house=True, primary_domain="localhost"))


@pytest.fixture
def acme(make_tenant, clock) -> TenantInfo:
    return TenantInfo.of(make_tenant("acme", tier="pro"))  # 30 % wholesale discount


@pytest.fixture
def admin(house) -> AuthUser:
    return AuthUser(1, house.id, "admin@ezscale.test", "Admin", AuthRole.PLATFORM_ADMIN)


@pytest.fixture
def owner(acme) -> AuthUser:
    return AuthUser(1, acme.id, "owner@acme.test", "Owner", AuthRole.RESELLER_OWNER)


def _rows(tenant: TenantInfo) -> list:
    with tenant_session(tenant) as db:
        return list_plans(db)


def _plan(tenant: TenantInfo, code: str) -> Plan:
    with tenant_session(tenant) as db:
        return db.exec(select(Plan).where(Plan.code == code)).one()


def _audits() -> list[AuditEntry]:
    with central_session() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def _create(tenant, actor, **fields):
    with tenant_session(tenant) as db:
        return create_plan(db, actor=actor, tenant=tenant, form=PlanForm(**{**NEW, **fields}))


def _update(tenant, actor, plan_code, **fields):
    with tenant_session(tenant) as db:
        plan_id = db.exec(select(Plan.id).where(Plan.code == plan_code)).one()
        return update_plan(db, actor=actor, tenant=tenant, plan_id=plan_id, form=PlanForm(**fields))


def test_admin_creates_a_house_plan_in_minor_units_and_it_is_audited(house, admin):
    last = max(r.sort_order for r in _rows(house))
    plan = _create(house, admin)
    assert (plan.code, plan.price_minor, plan.setup_fee_minor, plan.hourly_rate) == (
        "gpu-1",
        4900,
        1000,
        None,
    )
    assert (plan.currency, plan.sort_order, plan.active) == ("USD", last + 1, True)
    row = _rows(house)[-1]
    assert (row.price, row.setup_fee, row.wholesale) == ("49.00", "10.00", "")
    entry = _audits()[-1]
    assert (entry.action, entry.target, entry.actor_email) == (
        "plan.create",
        "tenant:ezscale/plan:gpu-1",
        "admin@ezscale.test",
    )
    assert json.loads(entry.after)["price"] == "49.00"


BAD_FORMS = [
    ({"price": "abc"}, "not a price"),
    ({"price": "-1"}, "zero or more"),
    ({"price": "12.345"}, "at most 2 decimal places"),
    ({"price": "1e30"}, "not a price"),
    ({"price": "1000000"}, "below 1,000,000"),
    ({"price": ""}, "Enter a price"),
    ({"setup_fee": "0.001"}, "Setup fee: Use at most 2 decimal places"),
    ({"setup_fee": "-5"}, "Setup fee: A price must be a number of zero or more"),
    ({"code": "vps-1"}, "“vps-1” already exists"),
    ({"code": "GPU 1!"}, "lowercase letters, digits or hyphens"),
    ({"code": "-gpu"}, "lowercase letters, digits or hyphens"),
    ({"name": "   "}, "needs a name"),
    ({"name": "x" * 121}, "longer than 120"),
    ({"interval": "weekly"}, "Unknown interval “weekly”"),
    ({"service_type": "colo"}, "Unknown service type “colo”"),
    ({"sort_order": "first"}, "whole number"),
    ({"sort_order": "²"}, "whole number"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_FORMS)
def test_a_bad_new_plan_changes_nothing(house, admin, fields, message):
    before, audits = _rows(house), len(_audits())
    with pytest.raises(DomainError, match=message):
        _create(house, admin, **fields)
    assert _rows(house) == before
    assert len(_audits()) == audits


@pytest.mark.parametrize(("fields", "message"), BAD_FORMS)
def test_a_bad_edit_changes_nothing(house, admin, fields, message):
    before, audits = _rows(house), len(_audits())
    with pytest.raises(DomainError, match=message):
        _update(house, admin, "vps-2", **{**NEW, "code": "vps-2", **fields})
    assert _rows(house) == before
    assert len(_audits()) == audits


def test_admin_edits_every_field_of_a_house_plan(house, admin):
    plan = _update(
        house,
        admin,
        "vps-2",
        name="VPS Two",
        code="vps-two",
        description="more",
        service_type="game",
        interval="quarterly",
        price="42.50",
        setup_fee="",
        active=False,
        sort_order="7",
    )
    assert (plan.code, plan.name, plan.service_type, plan.billing_interval) == (
        "vps-two",
        "VPS Two",
        "game",
        BillingInterval.QUARTERLY,
    )
    assert (plan.price_minor, plan.setup_fee_minor, plan.active, plan.sort_order) == (4250, 0, False, 7)
    entry = _audits()[-1]
    assert entry.action == "plan.update"
    assert json.loads(entry.before)["price"] == "15.00"
    assert json.loads(entry.after)["price"] == "42.50"
    assert "description" in json.loads(entry.after)


def test_hourly_plans_take_a_rate_of_up_to_six_places(house, admin):
    plan = _create(house, admin, code="gpu-h", interval="hourly", price="0.123456")
    assert (plan.hourly_rate, plan.price_minor) == (Decimal("0.123456"), 0)
    assert _rows(house)[-1].price == "0.123456"
    with pytest.raises(DomainError, match="at most 6 decimal places"):
        _update(house, admin, "gpu-h", price="0.1234567")
    assert _plan(house, "gpu-h").hourly_rate == Decimal("0.123456")


def test_changing_the_interval_needs_the_new_price(house, admin):
    with pytest.raises(DomainError, match="price for the new billing interval"):
        _update(house, admin, "vps-1", interval="hourly")
    plan = _update(house, admin, "vps-1", interval="hourly", price="0.01")
    assert (plan.billing_interval, plan.hourly_rate, plan.price_minor) == (
        BillingInterval.HOURLY,
        Decimal("0.01"),
        0,
    )


def test_reseller_owner_edits_retail_fields_but_never_below_wholesale(acme, owner):
    before, audits = _rows(acme), len(_audits())
    with pytest.raises(DomainError, match=r"VPS 2: \$10\.49 is below the wholesale price \$10\.50"):
        _update(acme, owner, "vps-2", name="Cheap", price="10.49")
    with pytest.raises(DomainError, match=r"below the wholesale rate \$0\.105/hour"):
        _update(acme, owner, "kasm-dev-basic", price="0.1")
    assert (_rows(acme), len(_audits())) == (before, audits)

    plan = _update(
        acme,
        owner,
        "vps-2",
        name="Acme VPS",
        description="Fast",
        price="10.50",
        setup_fee="5",
        active=False,
        sort_order="3",
    )
    assert (plan.name, plan.description, plan.price_minor, plan.setup_fee_minor) == (
        "Acme VPS",
        "Fast",
        1050,
        500,
    )
    assert (plan.active, plan.sort_order, plan.wholesale_price_minor) == (False, 3, 1050)
    assert _update(acme, owner, "kasm-dev-basic", price="0.105").hourly_rate == Decimal("0.105")
    entry = _audits()[-1]
    assert (entry.target, entry.actor_role) == ("tenant:acme/plan:kasm-dev-basic", "reseller_owner")


@pytest.mark.parametrize("fields", [{"code": "my-vps"}, {"interval": "annual"}, {"service_type": "game"}])
def test_reseller_cannot_change_what_the_wholesale_catalogue_fixes(acme, owner, fields):
    before = _rows(acme)
    with pytest.raises(DomainError, match="cannot change a plan's code, service type or billing interval"):
        _update(acme, owner, "vps-2", **fields)
    assert _rows(acme) == before
    assert _update(acme, owner, "vps-2", code="vps-2", interval="monthly").code == "vps-2"  # unchanged: fine


def test_reseller_cannot_create_plans(acme, owner):
    before = _rows(acme)
    with pytest.raises(DomainError, match="Resellers cannot create plans"):
        _create(acme, owner)
    assert _rows(acme) == before


def test_only_the_right_people_edit_a_catalogue(house, acme, admin, owner, make_tenant):
    beta = TenantInfo.of(make_tenant("beta"))
    staff = AuthUser(2, acme.id, "staff@acme.test", "Staff", AuthRole.RESELLER_STAFF)
    customer = AuthUser(3, house.id, "c@ezscale.test", "C", AuthRole.CUSTOMER)
    for tenant, actor in ((beta, owner), (acme, staff), (house, customer), (house, owner), (acme, admin)):
        with pytest.raises(DomainError, match="Only a platform admin or the reseller's owner"):
            _update(tenant, actor, "vps-1", name="Taken over")
    assert {_plan(t, "vps-1").name for t in (house, acme, beta)} == {"VPS 1"}


def test_an_edit_of_one_tenants_plan_leaves_the_others_alone(house, acme, admin, owner):
    house_before = _rows(house)
    _update(acme, owner, "vps-1", name="Acme Small", price="9.00")
    assert _rows(house) == house_before
    acme_before = _rows(acme)
    _update(house, admin, "vps-1", price="7.00")
    assert _rows(acme) == acme_before
    assert (_plan(house, "vps-1").price_minor, _plan(acme, "vps-1").price_minor) == (700, 900)


def test_admin_sets_a_resellers_wholesale_price_but_not_above_their_price(acme, house, admin, owner):
    with tenant_session(acme) as db:
        vps = db.exec(select(Plan).where(Plan.code == "vps-2")).one()
        kasm = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        plan = set_wholesale_price(db, actor=admin, tenant=acme, plan_id=vps.id, price="11.25")
        assert plan.wholesale_price_minor == 1125
        with pytest.raises(DomainError, match=r"\$15\.00 is below the wholesale price \$15\.01"):
            set_wholesale_price(db, actor=admin, tenant=acme, plan_id=vps.id, price="15.01")
        rate = set_wholesale_price(db, actor=admin, tenant=acme, plan_id=kasm.id, price="0.1125")
        assert rate.wholesale_hourly_rate == Decimal("0.1125")
        with pytest.raises(DomainError, match="Only a platform admin"):
            set_wholesale_price(db, actor=owner, tenant=acme, plan_id=vps.id, price="1.00")
    with tenant_session(house) as db, pytest.raises(DomainError, match="buys nothing wholesale"):
        set_wholesale_price(db, actor=admin, tenant=house, plan_id=1, price="1.00")
    assert _plan(acme, "vps-2").wholesale_price_minor == 1125
    entry = _audits()[-1]
    assert (entry.action, json.loads(entry.after)) == ("plan.wholesale", {"wholesale": "0.1125"})


def test_audit_counts_only_real_changes(house, admin):
    with central_session() as session:
        before = session.exec(select(func.count()).select_from(AuditEntry)).one()
    _update(house, admin, "vps-1", name="VPS 1")
    with central_session() as session:
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == before
