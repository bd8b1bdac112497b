"""One price format everywhere: amounts with the currency's minor digits (more only when the price
has them), hourly prices as "$0.30/hour", on the storefront, the reseller's price list and the
workspace order form alike."""

from decimal import Decimal

import pytest

from ezscale.money import Money, amount_text, rate_text


@pytest.mark.parametrize(
    ("rate", "currency", "text"),
    [
        ("0.3", "USD", "$0.30/hour"),
        ("0.30", "USD", "$0.30/hour"),
        ("0.105", "USD", "$0.105/hour"),  # exact: a six-place rate is never rounded for display
        ("1200", "EUR", "€1,200.00/hour"),
        ("0.5", "CHF", "0.50 CHF/hour"),
        ("3", "JPY", "3 JPY/hour"),
    ],
)
def test_rate_text(rate, currency, text):
    assert rate_text(Decimal(rate), currency) == text


def test_money_format_is_the_amount_text():
    assert Money(548, "USD").format() == "$5.48" == amount_text(Decimal("5.48"), "USD")
    assert Money(-1250, "EUR").format() == "-€12.50"
    assert Money(0, "USD").format() == "$0.00"


def test_every_hourly_price_shown_uses_it(central, make_tenant):
    from ezscale.services.catalogue.retail_prices import pricing
    from ezscale.services.catalogue.storefront import list_public_plans
    from ezscale.services.kasm.view import order_options
    from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

    tenant = TenantInfo.of(make_tenant("prices"))
    with tenant_session(tenant) as db:
        storefront = {p.code: p.price_label for p in list_public_plans(db)}
        reseller = {r.code: r.retail for r in pricing(db)}
        types, _ = order_options(db)
    assert storefront["kasm-dev-pro"] == reseller["kasm-dev-pro"] == "$0.30/hour"
    assert any(t.label.startswith("Developer Pro — $0.30/hour") for t in types)
