"""The ECB daily reference rates feed (`eurofxref-daily.xml`): fetch, parse and validate.

Rates are units of a currency per 1 EUR, kept as the exact decimal strings published."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

import httpx

from ezscale.errors import DomainError

NAMESPACES = {
    "gesmes": "http://www.gesmes.org/xml/2002-08-01",
    "ecb": "http://www.ecb.int/vocabulary/2002-08-01/eurofxref",
}
MIN_CURRENCIES = 20
MAX_AGE = timedelta(days=5)
MAX_BYTES = 1_000_000


class FeedError(DomainError):
    """The feed could not be fetched or is not a valid, current set of rates."""


@dataclass(frozen=True, slots=True)
class Published:
    """One day of reference rates as published."""

    rate_date: date
    rates: dict[str, str]


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse(body: bytes) -> Published:
    """The dated rates of a daily feed document; a FeedError says what is wrong with it."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise FeedError("The rates feed has a document type declaration; refused.")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise FeedError(f"The rates feed is not well-formed XML ({error}).") from None
    days = root.findall("ecb:Cube/ecb:Cube[@time]", NAMESPACES)
    if len(days) != 1:
        raise FeedError(f"The rates feed has {len(days)} dated days; expected exactly one.")
    try:
        rate_date = date.fromisoformat(days[0].get("time", ""))
    except ValueError:
        raise FeedError(f"The rates feed's date {days[0].get('time')!r} is not a date.") from None
    rates: dict[str, str] = {}
    for cube in days[0].findall("ecb:Cube[@currency]", NAMESPACES):
        code, text = (cube.get("currency") or "").strip().upper(), (cube.get("rate") or "").strip()
        value = _decimal(text)
        if len(code) != 3 or not code.isalpha() or code == "EUR":
            raise FeedError(f"The rates feed has an invalid currency code {code!r}.")
        if value is None or value <= 0:
            raise FeedError(f"The rates feed's rate for {code} ({text!r}) is not a positive number.")
        if code in rates:
            raise FeedError(f"The rates feed lists {code} twice.")
        rates[code] = text
    if len(rates) < MIN_CURRENCIES:
        raise FeedError(f"The rates feed has {len(rates)} currencies; expected at least {MIN_CURRENCIES}.")
    return Published(rate_date=rate_date, rates=rates)


def check_current(published: Published, *, today: date) -> None:
    """Refuse rates dated in the future or older than `MAX_AGE` (a stale or wrong feed)."""
    if published.rate_date > today:
        raise FeedError(f"The rates feed is dated {published.rate_date}, after today ({today}).")
    if today - published.rate_date > MAX_AGE:
        raise FeedError(f"The rates feed is dated {published.rate_date}, more than {MAX_AGE.days} days ago.")


def fetch(url: str, *, client: httpx.Client | None = None, timeout: float = 10.0) -> bytes:
    """The feed document at `url`; network errors and non-200 answers are FeedErrors."""
    try:
        response = (client or httpx).get(url, timeout=timeout)
    except httpx.HTTPError as error:
        raise FeedError(f"The rates feed could not be reached ({type(error).__name__}).") from None
    if response.status_code != 200:
        raise FeedError(f"The rates feed answered HTTP {response.status_code}.")
    if len(response.content) > MAX_BYTES:
        raise FeedError("The rates feed is larger than a daily feed can be.")
    return response.content
