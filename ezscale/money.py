"""Money: exact decimals with a currency, stored as integer minor units.

Rounding happens in one place (`round_minor`), half-up to the currency's minor unit.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ezscale.errors import DomainError

_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}
# Hourly usage rates keep six decimal places.
RATE_PLACES = 6


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency.upper(), 2)


def round_minor(amount: Decimal, currency: str) -> int:
    """Round a decimal amount to whole minor units of `currency` (half-up)."""
    if not isinstance(amount, Decimal):
        raise TypeError("money amounts must be Decimal")
    scaled = amount.scaleb(minor_digits(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_price(text: str, *, places: int) -> Decimal:
    """A typed price ("12.50", "$12.50", "0.105") as an exact decimal of zero or more with at
    most `places` decimal places; anything else is a DomainError."""
    text = (text or "").strip().lstrip("$")
    if not text:
        raise DomainError("Enter a price.")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"“{text}” is not a price.") from None
    if not value.is_finite() or value < 0:
        raise DomainError("A price must be a number of zero or more.")
    try:
        exact = value == value.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # more digits than a decimal context holds
        raise DomainError(f"“{text}” is not a price.") from None
    if not exact:
        raise DomainError(f"Use at most {places} decimal places.")
    return value


SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def amount_text(amount: Decimal, currency: str) -> str:
    """An exact amount with its currency: at least the minor digits, more only when it has them
    ("$0.30", "$0.105", "12.50 CHF")."""
    exponent = amount.normalize().as_tuple().exponent
    if not isinstance(exponent, int):  # NaN or infinity
        raise DomainError(f"{amount} is not an amount.")
    digits = max(minor_digits(currency), -min(exponent, 0))
    text = f"{abs(amount):,.{digits}f}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"


def rate_text(rate: Decimal, currency: str) -> str:
    """The one format of an hourly price everywhere: "$0.30/hour"."""
    return f"{amount_text(rate, currency)}/hour"


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> "Money":
        return cls(round_minor(Decimal(amount), currency), currency.upper())

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-minor_digits(self.currency))

    def __add__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def _same_currency(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def format(self) -> str:
        return amount_text(self.amount, self.currency)
