"""Storefront prices in the currency a visitor picks: only the tenant's currencies count (anything
else shows the base), recurring prices converted (or fixed) and hourly rates converted to 6
places; without rates yet, the plans' own prices rather than an error."""

from ezscale.services.catalogue.storefront import list_public_plans
from ezscale.services.catalogue.storefront_view import PlanCard, plan_cards
from ezscale.services.fx import currencies
from ezscale.services.tenancy.tenants import TenantInfo
from ezscale.settings import get_settings
from ezscale.state.storefront import StorefrontState
from tests.actors import admin
from tests.factories import tenant_db
from tests.state_harness import call, page_state


def _shop(make_tenant) -> TenantInfo:
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as db:
        currencies.update_currencies(
            db, actor=admin(), tenant=tenant, enabled="USD EUR JPY", rounding="minor"
        )
    return tenant


def test_the_visitor_currency_is_one_of_the_tenants(make_tenant, clock):
    shop = _shop(make_tenant)
    with tenant_db(shop) as db:
        assert currencies.visitor_currency(db, "eur") == "EUR"
        assert currencies.visitor_currency(db, "CHF") == "USD"  # not sold in it: the base
        assert currencies.visitor_currency(db, "") == "USD"
        assert currencies.visitor_currency(db, "<script>") == "USD"


def test_prices_in_the_chosen_currency(make_tenant, rates_stored):
    shop = _shop(make_tenant)
    with tenant_db(shop) as db:
        usd = {p.code: p.price_label for p in list_public_plans(db)}
        eur = {p.code: p.price_label for p in list_public_plans(db, currency="EUR")}
        yen = {p.code: p.price_label for p in list_public_plans(db, currency="JPY")}
    assert (usd["vps-1"], eur["vps-1"], yen["vps-1"]) == ("$6.00/mo", "€5.15/mo", "882 JPY/mo")
    # $0.15/h × 0.8583690987 → €0.128755/h; × 146.9785407725 → 22.046781 JPY/h
    assert (usd["kasm-dev-basic"], eur["kasm-dev-basic"]) == ("$0.15/hour", "€0.128755/hour")
    assert yen["kasm-dev-basic"] == "22.046781 JPY/hour"


def test_without_rates_the_storefront_shows_the_plans_own_prices(make_tenant, clock):
    shop = _shop(make_tenant)
    with tenant_db(shop) as db:
        assert {p.code: p.price_label for p in list_public_plans(db, currency="EUR")}["vps-1"] == "$6.00/mo"


def test_the_storefront_cards_order_recurring_plans_and_launch_workspaces(make_tenant, rates_stored):
    shop = _shop(make_tenant)
    with tenant_db(shop) as db:
        cards = {c.code: c for c in plan_cards(db, currency="EUR")}
    vps, kasm = cards["vps-1"], cards["kasm-dev-basic"]
    assert (vps.price, vps.kind, vps.action, vps.href) == ("€5.15/mo", "VPS", "Order", "/order/vps-1")
    assert (kasm.action, kasm.href) == ("Launch", "/client/workspaces/launch/kasm-dev-basic")
    assert kasm.kind == "Cloud workspace" and kasm.price == "€0.128755/hour"


def test_the_storefront_page_holds_typed_cards_in_the_visitors_currency(make_tenant, rates_stored):
    _shop(make_tenant)
    page = page_state(StorefrontState, host=f"shop.{get_settings().platform_domain}:3000")
    page.visitor_currency = "eur"  # not upper case, as a cookie may say it
    call(page, "load")
    assert (page.currency, page.currencies) == ("EUR", ["USD", "EUR", "JPY"])
    assert next(c for c in page.plans if c.code == "vps-1") == PlanCard(
        "vps-1", "VPS 1", "1 vCPU · 2 GB RAM · 40 GB NVMe", "€5.15/mo", "VPS", "", "/order/vps-1", "Order"
    )
