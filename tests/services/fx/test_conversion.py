"""Conversion and rounding table: USD base prices in EUR, GBP and JPY from fixed ECB rates.

Expected values are worked out by hand from the rates below (units per 1 EUR):
USD 1.1650, GBP 0.86250, JPY 171.23, so per 1 USD: EUR 1/1.165 = 0.8583690987…,
GBP 0.8625/1.165 = 0.7403433476…, JPY 171.23/1.165 = 146.9785407725…"""

from decimal import Decimal

import pytest

from ezscale.models.fx import RoundingRule
from ezscale.services.fx.conversion import convert_back_minor, convert_minor, round_price
from ezscale.services.fx.rates import RatesUnavailable, RateTable

TABLE = RateTable(
    rate_date=None, per_eur={"USD": Decimal("1.1650"), "GBP": Decimal("0.86250"), "JPY": Decimal("171.23")}
)
MINOR, WHOLE, NINETY_NINE = RoundingRule.MINOR, RoundingRule.WHOLE, RoundingRule.NINETY_NINE


def test_cross_rates_go_through_eur_to_ten_places():
    assert TABLE.cross("USD", "EUR") == Decimal("0.8583690987")
    assert TABLE.cross("USD", "GBP") == Decimal("0.7403433476")
    assert TABLE.cross("USD", "JPY") == Decimal("146.9785407725")
    assert TABLE.cross("EUR", "USD") == Decimal("1.165")
    assert TABLE.cross("USD", "USD") == 1


@pytest.mark.parametrize(
    ("usd_minor", "target", "rule", "expected"),
    [
        # $10.00 → €8.583690987
        (1000, "EUR", MINOR, 858),
        (1000, "EUR", WHOLE, 900),
        (1000, "EUR", NINETY_NINE, 899),
        # $6.00 → €5.1502145922
        (600, "EUR", MINOR, 515),
        (600, "EUR", WHOLE, 600),
        (600, "EUR", NINETY_NINE, 599),
        # $9.99 → £7.396030042…
        (999, "GBP", MINOR, 740),
        (999, "GBP", WHOLE, 800),
        (999, "GBP", NINETY_NINE, 799),
        # $6.00 → ¥881.871244635: yen have no minor unit, every rule gives whole yen
        (600, "JPY", MINOR, 882),
        (600, "JPY", WHOLE, 882),
        (600, "JPY", NINETY_NINE, 882),
        # $25.00 → ¥3674.4635193125: half-up keeps 3674, "up" rules go to 3675
        (2500, "JPY", MINOR, 3674),
        (2500, "JPY", WHOLE, 3675),
        (2500, "JPY", NINETY_NINE, 3675),
        # free stays free
        (0, "JPY", NINETY_NINE, 0),
        (0, "EUR", WHOLE, 0),
    ],
)
def test_conversion_and_rounding_table(usd_minor, target, rule, expected):
    rate = TABLE.cross("USD", target)
    assert convert_minor(usd_minor, source="USD", target=target, rate=rate, rule=rule) == expected


def test_half_up_like_whmcs_not_bankers_rounding():
    # €1.00 at 1.165 is $1.165 exactly: half-up gives $1.17 (Python's round() would give 1.16).
    assert convert_minor(100, source="EUR", target="USD", rate=Decimal("1.165"), rule=MINOR) == 117
    assert convert_minor(10, source="EUR", target="USD", rate=Decimal("1.165"), rule=MINOR) == 12


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("12.30", 1299), ("12.99", 1299), ("13.00", 1399), ("0.50", 99), ("12.991", 1399)],
)
def test_ninety_nine_is_the_next_x99_at_or_above(amount, expected):
    assert round_price(Decimal(amount), "USD", NINETY_NINE) == expected


def test_back_to_the_platform_currency_at_a_recorded_rate():
    # ¥882 at 146.9785407725 yen per dollar is $6.0009… → $6.00; ¥0 is $0.
    assert convert_back_minor(882, currency="JPY", target="USD", rate=Decimal("146.9785407725")) == 600
    assert convert_back_minor(858, currency="EUR", target="USD", rate=Decimal("0.8583690987")) == 1000
    assert convert_back_minor(500, currency="USD", target="USD", rate=Decimal("2")) == 500


def test_a_currency_without_a_rate_is_a_clear_error():
    with pytest.raises(RatesUnavailable, match="No exchange rate from USD to CHF"):
        TABLE.cross("USD", "CHF")
