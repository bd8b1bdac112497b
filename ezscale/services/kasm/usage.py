"""The one Kasm billing rule, used for the live dashboard, the session total and the invoice line.

A session is billed by started 15 minutes: its duration is rounded up to the next multiple of
15 minutes (8 min → 15, 22 → 30, 65 → 75, exactly 15:00 → 15, 15:01 → 30) and costs
billable hours × the hourly rate locked when it started. Amounts stay exact `Decimal`s until
the single half-up rounding to minor units (`round_minor`).

A session that crosses a billing-period boundary is split there. The 15-minute rounding applies
to the session as a whole: earlier segments are billed for their exact time and the last one
for the remainder, with costs taken as differences of the rounded cumulative cost. The segments
therefore add up to exactly what the unsplit session costs, which is what the dashboard shows.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ezscale.money import round_minor

INCREMENT_SECONDS = 15 * 60
_HOUR = Decimal(3600)

# The rule in plain words, shown on the storefront and the workspace page.
RULE_TEXT = (
    "Workspaces are billed per started 15 minutes while they run. Running time is counted in "
    "whole seconds (a part of a second is not counted), then rounded up to the next 15 minutes: "
    "15 min 0.9 s is billed as 15 minutes, 15 min 1 s as 30 minutes."
)


def billable_seconds(duration_seconds: int) -> int:
    """Duration rounded up to the next started 15 minutes (0 stays 0)."""
    if duration_seconds < 0:
        raise ValueError("a duration cannot be negative")
    return -(-duration_seconds // INCREMENT_SECONDS) * INCREMENT_SECONDS


def elapsed_seconds(start: datetime, end: datetime) -> int:
    """Whole seconds between two instants (a started second is not billed on its own)."""
    return max(0, int((end - start).total_seconds()))


def cost(seconds: int, rate: Decimal) -> Decimal:
    """Exact cost of `seconds` billable seconds at an hourly `rate`."""
    if not isinstance(rate, Decimal):
        raise TypeError("rates must be Decimal")
    return Decimal(seconds) * rate / _HOUR


@dataclass(frozen=True, slots=True)
class SessionCost:
    """A session's duration, billable seconds and cost (exact and in minor units)."""

    duration_seconds: int
    billable_seconds: int
    amount: Decimal
    amount_minor: int


def session_cost(*, start: datetime, end: datetime, rate: Decimal, currency: str) -> SessionCost:
    """What a session from `start` to `end` costs: shown live, totalled and invoiced alike."""
    duration = elapsed_seconds(start, end)
    billable = billable_seconds(duration)
    amount = cost(billable, rate)
    return SessionCost(duration, billable, amount, round_minor(amount, currency))


@dataclass(frozen=True, slots=True)
class SegmentCost:
    """The billable seconds and cost of one segment of a session."""

    billable_seconds: int
    amount_minor: int


def segment_cost(
    *,
    session_start: datetime,
    segment_start: datetime,
    segment_end: datetime,
    final: bool,
    rate: Decimal,
    currency: str,
) -> SegmentCost:
    """Billable seconds and cost of one segment of a split session.

    A non-final segment is billed for its exact time; the final one for the rest of the
    session's rounded duration. The sum over all segments equals `session_cost` of the whole.
    """
    before = elapsed_seconds(session_start, segment_start)
    through = elapsed_seconds(session_start, segment_end)
    if final:
        through = billable_seconds(through)
    return SegmentCost(
        billable_seconds=through - before,
        amount_minor=round_minor(cost(through, rate), currency) - round_minor(cost(before, rate), currency),
    )


def period_start(at: datetime) -> datetime:
    """Start of the billing period (calendar month, UTC) containing `at`."""
    at = at.astimezone(UTC)
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_period_start(at: datetime) -> datetime:
    """Start of the billing period after the one containing `at`."""
    start = period_start(at)
    return (start + timedelta(days=32)).replace(day=1)


def rate_micro(rate: Decimal) -> int:
    """The rate in millionths, for the browser's integer copy of this rule."""
    return int((rate * 1_000_000).to_integral_value())
