from decimal import Decimal

import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.tenant import Plan
from ezscale.services.catalogue.retail_prices import pricing, set_retail_price
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session


@pytest.fixture
def acme_db(make_tenant):
    tenant = make_tenant("acme", tier="pro")  # 30 % wholesale discount
    with tenant_session(TenantInfo.of(tenant)) as db:
        yield db


def _plan(db, code: str) -> Plan:
    return db.exec(select(Plan).where(Plan.code == code)).one()


def test_reseller_cannot_sell_below_wholesale(acme_db):
    vps = _plan(acme_db, "vps-2")
    with pytest.raises(DomainError, match=r"VPS 2: \$10\.49 is below the wholesale price \$10\.50"):
        set_retail_price(acme_db, plan_id=vps.id, price="10.49")
    assert _plan(acme_db, "vps-2").price_minor == 1500  # unchanged
    assert set_retail_price(acme_db, plan_id=vps.id, price="10.50").price_minor == 1050
    assert set_retail_price(acme_db, plan_id=vps.id, price="$19.99").price_minor == 1999


def test_hourly_rates_have_a_wholesale_floor_too(acme_db):
    kasm = _plan(acme_db, "kasm-dev-basic")
    assert kasm.wholesale_hourly_rate == Decimal("0.105")
    with pytest.raises(DomainError, match=r"below the wholesale rate \$0\.105/hour"):
        set_retail_price(acme_db, plan_id=kasm.id, price="0.1")
    assert set_retail_price(acme_db, plan_id=kasm.id, price="0.125").hourly_rate == Decimal("0.125")


@pytest.mark.parametrize(
    ("price", "message"),
    [("abc", "not a price"), ("-1", "zero or more"), ("12.345", "2 decimal places"), ("NaN", "zero or more")],
)
def test_bad_prices_are_refused(acme_db, price, message):
    vps = _plan(acme_db, "vps-2")
    with pytest.raises(DomainError, match=message):
        set_retail_price(acme_db, plan_id=vps.id, price=price)


def test_pricing_table_shows_margin(acme_db):
    rows = {r.code: r for r in pricing(acme_db)}
    assert (rows["vps-2"].retail, rows["vps-2"].wholesale, rows["vps-2"].margin) == (
        "$15.00",
        "$10.50",
        "$4.50",
    )
    assert rows["kasm-biz-pro"].margin == "$0.12/hour"  # the one hourly price format
