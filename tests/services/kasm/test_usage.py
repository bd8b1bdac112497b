"""The Kasm billing rule: started 15 minutes, exact decimals, period-boundary split."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ezscale.pages import kasm as workspace_page
from ezscale.pages import storefront
from ezscale.services.kasm.usage import (
    RULE_TEXT,
    billable_seconds,
    cost,
    elapsed_seconds,
    next_period_start,
    segment_cost,
    session_cost,
)


@pytest.mark.parametrize(
    ("duration", "billable_minutes"),
    [
        (timedelta(minutes=8), 15),
        (timedelta(minutes=22), 30),
        (timedelta(minutes=65), 75),
        (timedelta(minutes=15), 15),
        (timedelta(minutes=15, seconds=1), 30),
        (timedelta(seconds=1), 15),
        (timedelta(0), 0),
        (timedelta(hours=2, minutes=37), 165),
    ],
)
def test_rounding_table(duration, billable_minutes):
    assert billable_seconds(int(duration.total_seconds())) == billable_minutes * 60


def test_seed_examples_at_twenty_cents():
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    rate = Decimal("0.20")
    for minutes, amount in ((8, "0.05"), (22, "0.10"), (65, "0.25")):
        result = session_cost(start=start, end=start + timedelta(minutes=minutes), rate=rate, currency="USD")
        assert result.amount == Decimal(amount)
        assert result.amount_minor == int(Decimal(amount) * 100)


def test_cost_is_exact_and_rounds_half_up_once():
    # 15 minutes of Developer Basic: 0.25 h × 0.15 = 0.0375 exactly → 4 cents.
    start = datetime(2026, 11, 1, tzinfo=UTC)
    result = session_cost(
        start=start, end=start + timedelta(minutes=10), rate=Decimal("0.15"), currency="USD"
    )
    assert result.amount == Decimal("0.0375")
    assert result.amount_minor == 4
    with pytest.raises(TypeError):
        cost(900, 0.15)


@given(st.integers(min_value=0, max_value=10**7))
def test_billable_never_below_actual_and_a_multiple_of_15_minutes(seconds):
    billable = billable_seconds(seconds)
    assert billable >= seconds
    assert billable % 900 == 0
    assert billable - seconds < 900


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=10**5))
def test_billable_is_monotone(seconds, extra):
    assert billable_seconds(seconds + extra) >= billable_seconds(seconds)


@given(
    st.integers(min_value=0, max_value=10**6),
    st.decimals(min_value=0, max_value=100, places=6, allow_nan=False, allow_infinity=False),
)
def test_cost_is_exact_decimal(seconds, rate):
    amount = cost(billable_seconds(seconds), rate)
    assert isinstance(amount, Decimal)
    # Whole quarter hours × a 6-place rate: exact with at most 8 places, no float residue.
    assert amount == (Decimal(billable_seconds(seconds) // 900) * rate / 4)
    assert amount.as_tuple().exponent >= -8


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=200 * 3600),
    st.sampled_from([Decimal("0.15"), Decimal("0.30"), Decimal("0.333333"), Decimal("0.80")]),
)
def test_split_segments_add_up_to_the_whole_session(start, seconds, rate):
    end = start + timedelta(seconds=seconds)
    whole = session_cost(start=start, end=end, rate=rate, currency="USD")
    bounds = [start]
    while next_period_start(bounds[-1]) < end:
        bounds.append(next_period_start(bounds[-1]))
    bounds.append(end)
    parts = [
        segment_cost(
            session_start=start,
            segment_start=a,
            segment_end=b,
            final=b == end,
            rate=rate,
            currency="USD",
        )
        for a, b in itertools.pairwise(bounds)
    ]
    assert sum(p.billable_seconds for p in parts) == whole.billable_seconds
    assert sum(p.amount_minor for p in parts) == whole.amount_minor
    assert all(p.amount_minor >= 0 for p in parts)


def test_the_sub_second_rule_is_stated_on_the_pricing_and_workspace_pages():
    """Durations are truncated to whole seconds before the 15-minute round-up, as the text says."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for spent, said in (
        (timedelta(minutes=15, milliseconds=900), 15),
        (timedelta(minutes=15, seconds=1), 30),
    ):
        assert billable_seconds(elapsed_seconds(start, start + spent)) == said * 60
    assert "whole seconds" in RULE_TEXT and "15 min 0.9 s is billed as 15 minutes" in RULE_TEXT
    for page in (storefront.home(), workspace_page.workspaces_page()):
        assert RULE_TEXT in str(page)
