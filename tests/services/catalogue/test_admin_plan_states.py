"""The admin Plans page's states over typed rows: a plan put into the form for editing, a
reseller's wholesale price typed in its row and saved (a refused one changes nothing), a fixed
price in another currency; and the payments page's tenant picker."""

from ezscale.services.fx import currencies
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.admin_payments import AdminPaymentsState
from ezscale.state.admin_plans import AdminCurrenciesState, AdminPlansState, AdminWholesaleState
from tests.actors import admin
from tests.factories import admin_token, plan
from tests.state_harness import call, page_state


def test_plans_wholesale_and_currency_rows(central, make_tenant, clock, rates_stored):
    house = TenantInfo.of(make_tenant("house", is_house=True, primary_domain="localhost"))
    acme = TenantInfo.of(make_tenant("acme", tier="pro"))
    token = admin_token(central)

    plans = page_state(AdminPlansState, host="localhost", token=token, path="/admin/plans")
    call(plans, "load")
    vps2 = next(p for p in plans.plans if p.code == "vps-2")
    call(plans, "edit", vps2.id)
    assert plans.editing == str(vps2.id) and plans.form_active == vps2.active
    assert (plans.form["code"], plans.form["price"], plans.form["trial_days"]) == ("vps-2", vps2.price, "0")
    call(plans, "edit", 99999)  # no such row: the form stays as it is
    assert plans.editing == str(vps2.id)

    wholesale = page_state(AdminWholesaleState, host="localhost", token=token, path="/admin/plans")
    call(wholesale, "load")
    assert [(r.slug, r.name) for r in wholesale.resellers] == [("acme", "Acme")]  # never the house
    call(wholesale, "choose", "acme")
    row = next(r for r in wholesale.rows if r.code == "vps-2")
    call(wholesale, "set_draft", row.id, "9.00")
    assert next(r for r in wholesale.rows if r.id == row.id).wholesale == "9.00"
    call(wholesale, "save", row.id)
    assert wholesale.error == ""
    with tenant_session(acme) as db:
        assert plan(db, "vps-2").wholesale_price_minor == 900
    call(wholesale, "set_draft", row.id, "999.00")  # above the reseller's own price
    call(wholesale, "save", row.id)
    assert wholesale.error
    with tenant_session(acme) as db:
        assert plan(db, "vps-2").wholesale_price_minor == 900

    with tenant_session(house) as db:
        currencies.update_currencies(
            db, actor=admin(house.id), tenant=house, enabled="USD EUR", rounding="minor"
        )
    prices = page_state(AdminCurrenciesState, host="localhost", token=token, path="/admin/plans")
    call(prices, "load")
    key = next(r.key for r in prices.prices if r.code == "vps-2")
    call(prices, "set_draft", key, "14.00")
    call(prices, "save_price", key)
    assert prices.error == ""
    fixed = next(r for r in prices.prices if r.key == key)
    assert (fixed.price, fixed.fixed, fixed.draft) == ("€14.00", True, "")

    payments = page_state(AdminPaymentsState, host="localhost", token=token, path="/admin/payments")
    call(payments, "load")
    assert payments.error == ""
    assert [(t.id, t.label) for t in payments.tenants][-1] == (acme.id, "Acme (acme)")
