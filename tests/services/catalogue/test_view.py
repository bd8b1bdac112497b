"""The catalogue pages' typed rows: a reseller's plans with retail, wholesale and margin, the house
products it can add, plans' prices in other currencies (with an empty draft), and the resellers
an admin picks from (never the house)."""

from dataclasses import replace

import pytest

from ezscale.db import central_session
from ezscale.services.catalogue.offers import add_offer
from ezscale.services.catalogue.plans import PlanForm
from ezscale.services.catalogue.view import (
    CurrencyPriceRow,
    ResellerOption,
    currency_price_rows,
    offer_rows,
    reseller_options,
    reseller_plan_rows,
)
from ezscale.services.fx import currencies
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.actors import owner


@pytest.fixture
def house_and_acme(make_tenant) -> tuple[TenantInfo, TenantInfo]:
    house = TenantInfo.of(make_tenant("house", primary_domain="house.test", is_house=True))
    return house, TenantInfo.of(make_tenant("acme", tier="pro"))  # pro: 30 % off


def test_reseller_plan_rows_and_offers(house_and_acme):
    _, acme = house_and_acme
    with tenant_session(acme) as db:
        add_offer(
            db, actor=owner(acme), tenant=acme, offer_code="vps-2", form=PlanForm(price="24.00", active=False)
        )
        rows = {r.code: r for r in reseller_plan_rows(db)}
        offers = {o.code: o.label for o in offer_rows(db, tenant=acme)}
    added = rows["vps-2-2"]
    assert (added.price, added.setup_fee, added.trial_days, added.active) == ("24.00", "0.00", "0", False)
    assert (added.retail, added.wholesale, added.unit) == ("$24.00", "$10.50", "per period")
    assert isinstance(added.id, int)
    assert any(r.unit == "per hour" for r in rows.values())
    assert offers["vps-2"].endswith("wholesale $10.50 (you sell it 2×)")
    assert offers["kasm-dev-pro"] == "Developer Pro — wholesale $0.21/hour (you sell it 1×)"
    assert rows["vps-2"].margin == "$4.50" and rows["vps-2"].sort_order == "1"
    with pytest.raises(AttributeError):  # frozen: an edit is a new row
        added.price = "1.00"  # type: ignore[misc]
    assert replace(added, price="30.00").price == "30.00" and added.price == "24.00"


def test_currency_price_rows_and_reseller_options(house_and_acme, rates_stored):
    _, acme = house_and_acme
    with tenant_session(acme) as db:
        currencies.update_currencies(db, actor=owner(acme), tenant=acme, enabled="USD EUR", rounding="minor")
        rows = currency_price_rows(db)
    vps = next(r for r in rows if r.code == "vps-2")
    assert vps == CurrencyPriceRow(
        key=f"{vps.key.split(':')[0]}:EUR",
        plan="VPS 2",
        code="vps-2",
        currency="EUR",
        price="€12.88",
        fixed=False,
        wholesale="10.50 USD",
        draft="",
    )
    assert {r.currency for r in rows} == {"EUR"}  # never the base currency
    assert next(r for r in rows if r.code == "kasm-dev-pro").price == "€0.257511/hour"
    with central_session() as central:
        assert reseller_options(central) == [ResellerOption("acme", "Acme")]  # not the house
