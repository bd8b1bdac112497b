"""Plans' prices in the tenant's other currencies: shown fixed or converted, set by the plan's
editors only (the reseller's owner on its own catalogue), checked, audited."""

import pytest

from ezscale.errors import DomainError
from ezscale.services.catalogue.plans import CurrencyPrice, currency_prices, set_currency_price
from ezscale.services.fx import currencies
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import admin, audit_trail, owner, staff
from tests.factories import plan, tenant_db


@pytest.fixture
def reseller(make_tenant) -> TenantInfo:
    tenant = TenantInfo.of(make_tenant("resell"))
    with tenant_db(tenant) as db:
        currencies.update_currencies(
            db, actor=owner(tenant), tenant=tenant, enabled="USD EUR JPY", rounding="minor"
        )
    return tenant


def test_prices_show_fixed_or_converted_and_editors_set_them(reseller, rates_stored):
    with tenant_db(reseller) as db:
        vps = plan(db, "vps-1")
        assert currency_prices(db, plan_id=vps.id) == [
            CurrencyPrice("EUR", "€5.15", False),
            CurrencyPrice("JPY", "882 JPY", False),
        ]
        set_currency_price(
            db, actor=owner(reseller), tenant=reseller, plan_id=vps.id, currency="jpy", price="900"
        )
        assert currency_prices(db, plan_id=vps.id)[1] == CurrencyPrice("JPY", "900 JPY", True)
        assert audit_trail("plan.currency_price")[-1][2:4] == (
            "tenant:resell/plan:vps-1",
            {"currency": "JPY", "price_minor": 900, "setup_fee_minor": 0},
        )
        for actor, currency, price, message in [
            (staff(reseller), "JPY", "900", "Only a platform admin or the reseller's owner"),
            (owner(reseller), "JPY", "900.5", "Use at most 0 decimal places"),
            (owner(reseller), "CHF", "5", "not one of this shop's currencies"),
            (owner(reseller), "", "5", "Choose a currency"),
            (owner(reseller), "EUR", "-1", "zero or more"),
        ]:
            with pytest.raises(DomainError, match=message):
                set_currency_price(
                    db, actor=actor, tenant=reseller, plan_id=vps.id, currency=currency, price=price
                )
        with pytest.raises(DomainError, match="Only a platform admin or the reseller's owner"):
            set_currency_price(db, actor=admin(), tenant=reseller, plan_id=vps.id, currency="JPY", price="1")
        set_currency_price(
            db, actor=owner(reseller), tenant=reseller, plan_id=vps.id, currency="JPY", price=""
        )
        assert currency_prices(db, plan_id=vps.id)[1] == CurrencyPrice("JPY", "882 JPY", False)


def test_without_rates_the_editor_says_so(reseller, clock):
    with tenant_db(reseller) as db:
        assert [p.price for p in currency_prices(db, plan_id=plan(db, "vps-1").id)] == [
            "no rate yet",
            "no rate yet",
        ]
