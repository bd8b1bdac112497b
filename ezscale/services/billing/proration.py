"""Billing periods on a customer's anchor day, and proration to the second.

All amounts are integer minor units; the one rounding step is `money.round_minor`.
"""

import calendar
from datetime import UTC, datetime
from decimal import Decimal

from ezscale.errors import DomainError
from ezscale.models.tenant import BillingInterval, Plan
from ezscale.money import minor_digits, round_minor

INTERVAL_MONTHS = {BillingInterval.MONTHLY: 1, BillingInterval.QUARTERLY: 3, BillingInterval.ANNUAL: 12}


def validate_anchor_day(day: int) -> int:
    """The anchor day if it is 1-28 (every month has it), else a DomainError."""
    if not isinstance(day, int) or not 1 <= day <= 28:
        raise DomainError("The billing day must be between 1 and 28.")
    return day


def add_months(at: datetime, months: int) -> datetime:
    """Same day and time `months` later (anchor days are ≤ 28, so the day always exists)."""
    month_index = at.month - 1 + months
    year, month = at.year + month_index // 12, month_index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def next_anchor(after: datetime, anchor_day: int) -> datetime:
    """The first anchor-day midnight (UTC) strictly after `after`."""
    after = after.astimezone(UTC)
    candidate = datetime(after.year, after.month, anchor_day, tzinfo=UTC)
    return candidate if candidate > after else add_months(candidate, 1)


def latest_anchor(at: datetime, anchor_day: int) -> datetime:
    """The last anchor-day midnight at or before `at` (a customer's current billing date)."""
    return add_months(next_anchor(at, anchor_day), -1)


def period_line(plan: Plan, start: datetime, end: datetime) -> str:
    """The invoice line of one period of a plan."""
    return f"{plan.name} {start:%Y-%m-%d} – {end:%Y-%m-%d}"


def period_end(start: datetime, interval: BillingInterval) -> datetime:
    """Where a period that starts at `start` ends; hourly plans have no period."""
    months = INTERVAL_MONTHS.get(interval)
    if months is None:
        raise DomainError("Hourly plans are billed from usage, not by subscription period.")
    return add_months(start, months)


def prorate(amount_minor: int, currency: str, *, part_seconds: int, whole_seconds: int) -> int:
    """`amount × part / whole`, rounded once; part is clamped to [0, whole]."""
    if not isinstance(amount_minor, int) or amount_minor < 0:
        raise DomainError("Prorated amounts must be non-negative minor units.")
    if whole_seconds <= 0:
        raise DomainError("A billing period must have a positive length.")
    part = min(max(part_seconds, 0), whole_seconds)
    major = Decimal(amount_minor).scaleb(-minor_digits(currency))
    return round_minor(major * Decimal(part) / Decimal(whole_seconds), currency)


def billed_span(start: datetime, end: datetime, interval: BillingInterval) -> int:
    """The seconds a period's price is spread over (its rate), as `first_charge` billed it.

    A full period (`start` on an anchor) is its own length. A customer's first period runs
    from the order to the next anchor day and was charged the full price × its share of the
    whole period it lies in; that whole period, not the shorter first one, sets its rate, or
    the unused part of a first period would be credited above what was paid for it."""
    whole_start = latest_anchor(start, end.astimezone(UTC).day)
    return int((period_end(whole_start, interval) - whole_start).total_seconds())


def unused_part(
    amount_minor: int,
    currency: str,
    *,
    start: datetime,
    end: datetime,
    at: datetime,
    interval: BillingInterval,
) -> int:
    """The part of a period's price (`amount_minor` for a whole period) still unused at `at`:
    `amount × (end − at) / billed_span`, to the second, rounded once."""
    return prorate(
        amount_minor,
        currency,
        part_seconds=int((end - at).total_seconds()),
        whole_seconds=billed_span(start, end, interval),
    )


def split_period(
    amount_minor: int, currency: str, *, start: datetime, end: datetime, at: datetime
) -> tuple[int, int]:
    """(used, unused) parts of a period's price at `at`; they always add up to the price."""
    whole = int((end - start).total_seconds())
    unused = prorate(
        amount_minor, currency, part_seconds=int((end - at).total_seconds()), whole_seconds=whole
    )
    return amount_minor - unused, unused
