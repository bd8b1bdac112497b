"""Fixtures of the currency tests (a pytest plugin, see tests/conftest.py): the loopback ECB
feed, and rates stored from it."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from ezscale.services.fx import refresh
from ezscale.settings import get_settings
from ezscale.simulators.ecb import FEED_PATH, EcbSimulator, serve

FEED_DAY = date(2026, 11, 27)


@pytest.fixture
def ecb(monkeypatch) -> Iterator[EcbSimulator]:
    """The ECB feed simulator on a loopback port, publishing FEED_DAY; the settings point at it."""
    sim = EcbSimulator(day=FEED_DAY, hang_seconds=0.5)
    running = serve(sim)
    monkeypatch.setenv("EZSCALE_ECB_RATES_URL", running.url + FEED_PATH)
    get_settings.cache_clear()
    yield sim
    running.stop()
    get_settings.cache_clear()


@pytest.fixture
def rates_stored(central, ecb, clock):
    """FEED_DAY's rates fetched from the simulator that evening and stored; the clock then at
    the next midnight (so a new customer's first month is a whole one)."""
    clock.set(datetime(2026, 11, 27, 17, 0, tzinfo=UTC))
    result = refresh.refresh_rates(central, url=get_settings().ecb_rates_url)
    assert result.error == "" and result.added == len(ecb.rates)
    clock.set(datetime(2026, 11, 28, tzinfo=UTC))
    return ecb
