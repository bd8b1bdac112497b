"""The catalogue pages' typed rows: a reseller's plans with retail, wholesale and margin, the house
products it can add, plans' prices in other currencies (with an empty draft), and the resellers
an admin picks from (never the house)."""

from dataclasses import replace

import pytest

from ezscale.db import central_session
from ezscale.models.tenant import Plan, Role, User
from ezscale.services.accounts.sessions import create_user_session
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
from ezscale.settings import get_settings
from ezscale.state.reseller import ResellerCurrenciesState, ResellerPlansState
from tests.actors import owner
from tests.factories import plan
from tests.state_harness import call, page_state


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


def _owner_session(tenant: TenantInfo, clock) -> str:
    with tenant_session(tenant) as db:
        member = User(
            email="boss@acme.test",
            password_hash="x",
            role=Role.RESELLER_OWNER,
            created_at=clock.now(),
            email_verified_at=clock.now(),
        )
        db.add(member)
        db.commit()
        return create_user_session(db, user=member, method="password")


def test_the_plans_page_edits_typed_rows_and_saves_one_keeping_the_others_drafts(
    house_and_acme, clock, rates_stored
):
    _, acme = house_and_acme
    host = f"acme.{get_settings().platform_domain}:3000"
    token = _owner_session(acme, clock)
    plans = page_state(ResellerPlansState, host=host, token=token, path="/reseller/plans")
    call(plans, "load")
    vps1, vps2 = (next(r for r in plans.rows if r.code == c) for c in ("vps-1", "vps-2"))
    call(plans, "set_field", vps1.id, "price", "7.00")
    call(plans, "set_field", vps1.id, "id", "999")  # not a form field: ignored
    call(plans, "set_active", vps1.id, False)
    call(plans, "set_field", vps2.id, "name", "VPS Two (draft)")
    call(plans, "save", vps1.id)
    assert plans.error == ""
    with tenant_session(acme) as db:
        saved = plan(db, "vps-1")
        assert (saved.id, saved.price_minor, saved.active) == (vps1.id, 700, False)
        assert plan(db, "vps-2").name == "VPS 2"  # only the saved row reached the database
    rows = {r.code: r for r in plans.rows}
    assert (rows["vps-1"].price, rows["vps-1"].active, rows["vps-1"].retail) == ("7.00", False, "$7.00")
    assert rows["vps-2"].name == "VPS Two (draft)"  # the unsaved draft stays in its row
    call(plans, "set_field", vps1.id, "price", "1.00")  # below wholesale
    call(plans, "save", vps1.id)
    assert "wholesale" in plans.error
    with tenant_session(acme) as db:
        assert db.get(Plan, vps1.id).price_minor == 700  # nothing changed

    prices = page_state(ResellerCurrenciesState, host=host, token=token, path="/reseller/plans")
    call(prices, "load")
    call(prices, "set_enabled", "USD EUR")
    call(prices, "save_settings")
    key = next(r.key for r in prices.prices if r.code == "vps-2")
    call(prices, "set_draft", key, "0.01")  # below the wholesale price at today's rate
    assert call(prices, "save_price", key) is None
    assert "wholesale" in prices.error
    assert prices.parent_state.error == prices.error  # the area's one message, shown over the page
    call(prices, "set_draft", key, "20.00")
    assert next(r for r in prices.prices if r.key == key).draft == "20.00"
    call(prices, "save_price", key)
    assert prices.error == ""
    row = next(r for r in prices.prices if r.key == key)
    assert (row.price, row.fixed, row.draft) == ("€20.00", True, "")
