"""Hourly workspaces billed in the customer's currency: the type's rate converted with the day's
rate (6 places), or a fixed rate in that currency when one is set; the session, its usage charge,
the order form and the dashboard all in that currency; a rate change later leaves a running
session's locked rate alone."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from ezscale.errors import DomainError
from ezscale.models.billing import UsageCharge
from ezscale.models.tenant import CreditKind, Plan
from ezscale.services.analytics.metrics import compute_days
from ezscale.services.billing import credits
from ezscale.services.billing import views as billing_views
from ezscale.services.catalogue import plans as catalogue
from ezscale.services.fx import currencies, refresh
from ezscale.services.fx.pricing import hourly_pricing
from ezscale.services.kasm import workspaces as kasm
from ezscale.services.kasm.catalogue import templates
from ezscale.services.kasm.view import load_view, order_options
from ezscale.settings import get_settings
from tests.actors import admin, owner
from tests.factories import add_customer
from tests.services.kasm.test_workspaces import env  # noqa: F401  (fixture)

# $0.15/h × 0.8583690987 EUR per USD (the simulator's day) = 0.12875536… → €0.128755/h
EUR_RATE = Decimal("0.128755")


def _customer(env, email: str, currency: str, credit_minor: int) -> int:  # noqa: F811
    with env.db() as db:
        user = add_customer(db, email)
        currencies.choose_currency(db, user_id=user.id, currency=currency)
        credits.add_entry(
            db,
            user_id=user.id,
            kind=CreditKind.TOP_UP,
            amount_minor=credit_minor,
            currency=currency,
            memo="top-up",
        )
        db.commit()
        return user.id


def _order(env, user_id: int) -> int:  # noqa: F811
    with env.db() as db:
        plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        tpl = next(t for t in templates(db) if t.name == "Ubuntu + VS Code")
        return kasm.order_workspace(db, user_id=user_id, plan_id=plan.id, template_id=tpl.id).id


@pytest.fixture
def shop(rates_stored, env, central, clock):  # noqa: F811
    with env.db() as db:
        currencies.update_currencies(
            db, actor=admin(), tenant=env.tenant, enabled="USD EUR JPY", rounding="whole"
        )
    return env


def test_a_euro_customer_runs_and_is_billed_in_euros(shop, central, clock, rates_stored):
    kasm_env = shop
    user_id = _customer(kasm_env, "eur@example.test", "EUR", 2000)
    with kasm_env.db() as db:
        plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        price = hourly_pricing(db, plan, currency="EUR")
        # The rounding rule ("whole") is for prices, not per-hour rates: 6 places, half-up.
        assert (price.rate, price.converted) == (EUR_RATE, True)
        types, _ = order_options(db, user_id=user_id)
        assert any("€0.128755/hour" in t.label and t.value == str(plan.id) for t in types)
    workspace_id = _order(kasm_env, user_id)
    kasm_env.provision(workspace_id, clock)
    [usage] = kasm_env.sessions(workspace_id)
    assert (usage.rate, usage.currency) == (EUR_RATE, "EUR")
    board = load_view(kasm_env.tenant, user_id)
    assert board.workspaces[0].rate == "€0.128755/hour" and board.balance == "€20.00"

    # The rates move while it runs: the session keeps the rate it started with.
    rates_stored.set_day(date(2026, 11, 28), {"USD": "1.0000"})
    refresh.refresh_rates(central, url=get_settings().ecb_rates_url)
    clock.advance(timedelta(minutes=22))
    with kasm_env.db() as db:
        kasm.stop_workspace(db, user_id=user_id, workspace_id=workspace_id)
        [charge] = db.exec(select(UsageCharge)).all()
    # 0.5 h × €0.128755 = €0.0643775 → €0.06
    assert (charge.currency, charge.amount_minor, charge.unit_rate) == ("EUR", 6, EUR_RATE)
    with kasm_env.db() as db:  # the billing page's upcoming usage, in euros too
        upcoming = billing_views.overview(db, tenant=kasm_env.tenant, user_id=user_id).upcoming
    assert [row.amount for row in upcoming if row.plan.startswith("Workspace usage")] == ["€0.06"]
    with kasm_env.db() as db:  # the dollar shop's analytics never add euros in
        today = compute_days(db, start=clock.now().date(), end=clock.now().date())
    assert [(d.usage_revenue_minor, d.usage_seconds) for d in today] == [(0, 0)]


def test_a_fixed_rate_in_a_currency_wins_over_conversion(shop, clock):
    kasm_env = shop
    user_id = _customer(kasm_env, "yen@example.test", "JPY", 3000)
    with kasm_env.db() as db:
        plan = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
        catalogue.set_currency_price(
            db,
            actor=owner(kasm_env.tenant),
            tenant=kasm_env.tenant,
            plan_id=plan.id,
            currency="JPY",
            price="20",
        )
        assert hourly_pricing(db, plan, currency="JPY").rate == Decimal("20")
        assert not hourly_pricing(db, plan, currency="JPY").converted
        listed = {p.currency: (p.price, p.fixed) for p in catalogue.currency_prices(db, plan_id=plan.id)}
        assert listed["JPY"] == ("20 JPY/hour", True) and listed["EUR"] == ("€0.128755/hour", False)
        with pytest.raises(DomainError):
            catalogue.set_currency_price(
                db,
                actor=owner(kasm_env.tenant),
                tenant=kasm_env.tenant,
                plan_id=plan.id,
                currency="JPY",
                price="-1",
            )
    workspace_id = _order(kasm_env, user_id)
    kasm_env.provision(workspace_id, clock)
    clock.advance(timedelta(minutes=50))  # billed 1 h
    with kasm_env.db() as db:
        kasm.stop_workspace(db, user_id=user_id, workspace_id=workspace_id)
        [charge] = db.exec(select(UsageCharge)).all()
    assert (charge.currency, charge.amount_minor) == ("JPY", 20)


def test_the_usd_customer_still_pays_the_plan_rate(shop, clock):
    kasm_env = shop
    workspace_id = _order(kasm_env, kasm_env.user_id)
    kasm_env.provision(workspace_id, clock)
    [usage] = kasm_env.sessions(workspace_id)
    assert (usage.rate, usage.currency) == (Decimal("0.15"), "USD")
