"""Converting an amount between currencies and rounding it by the tenant's rule.

All arithmetic is on exact decimals; the result is whole minor units of the target currency
(0 decimals for JPY, so a converted yen price is a whole number of yen)."""

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from ezscale.models.fx import RoundingRule
from ezscale.money import minor_digits, round_minor

_CENT = Decimal("0.01")
_NINETY_NINE = Decimal("0.99")


def round_price(amount: Decimal, currency: str, rule: RoundingRule) -> int:
    """A converted price in whole minor units of `currency`, rounded by `rule`.

    MINOR rounds half-up to the minor unit (like PHP/WHMCS `round(x, 2)`, not banker's
    rounding); WHOLE goes up to the next whole unit; NINETY_NINE up to the next x.99 (whole
    units for currencies without cents). Zero stays zero under every rule."""
    if amount < 0:
        raise ValueError("prices are never negative")
    if amount == 0 or rule is RoundingRule.MINOR:
        return round_minor(amount, currency)
    digits = minor_digits(currency)
    if rule is RoundingRule.WHOLE or digits == 0:
        whole = amount.quantize(Decimal(1), rounding=ROUND_CEILING)
        return int(whole.scaleb(digits))
    units = (amount - _NINETY_NINE).quantize(Decimal(1), rounding=ROUND_CEILING)
    return round_minor(max(units, Decimal(0)) + _NINETY_NINE, currency)


def convert_minor(minor: int, *, source: str, target: str, rate: Decimal, rule: RoundingRule) -> int:
    """`minor` units of `source` in minor units of `target` at `rate` (target per 1 source)."""
    if source.upper() == target.upper():
        return minor
    amount = Decimal(minor).scaleb(-minor_digits(source)) * rate
    return round_price(amount, target, rule)


def convert_back_minor(minor: int, *, currency: str, target: str, rate: Decimal) -> int:
    """An invoice amount in `target` at a rate recorded on the invoice (units of `currency` per
    1 `target`), half-up to the target's minor unit (reports: base or platform currency)."""
    if currency.upper() == target.upper():
        return minor
    amount = Decimal(minor).scaleb(-minor_digits(currency)) / rate
    return round_minor(amount.quantize(Decimal(1).scaleb(-12), rounding=ROUND_HALF_UP), target)
