"""The ECB feed simulator: the real document shape, days and rates changed over HTTP, faults."""

from datetime import date

import httpx
import pytest

from ezscale.services.fx import feed
from ezscale.simulators.ecb import DEFAULT_RATES, FEED_PATH, EcbSimulator, serve


@pytest.fixture
def sim():
    simulator = EcbSimulator(day=date(2026, 11, 27))
    running = serve(simulator)
    yield simulator, running.url
    running.stop()


def test_the_feed_parses_like_the_ecbs(sim):
    _, url = sim
    published = feed.parse(httpx.get(url + FEED_PATH).content)
    assert published.rate_date == date(2026, 11, 27) and published.rates == DEFAULT_RATES
    assert httpx.get(url + "/stats/other.xml").status_code == 404


def test_day_and_faults_are_set_over_http(sim):
    simulator, url = sim
    assert (
        httpx.post(url + "/sim/day", json={"date": "2026-11-30", "rates": {"USD": "1.1702"}}).status_code
        == 204
    )
    published = feed.parse(httpx.get(url + FEED_PATH).content)
    assert (published.rate_date, published.rates["USD"]) == (date(2026, 11, 30), "1.1702")
    assert httpx.post(url + "/sim/fault", json={"fault": "500"}).status_code == 204
    assert httpx.get(url + FEED_PATH).status_code == 500
    assert httpx.post(url + "/sim/fault", json={"fault": "bogus"}).status_code == 400
    assert httpx.post(url + "/sim/day", json={"date": "not a date"}).status_code == 400
    simulator.fail(None)
    assert httpx.get(url + FEED_PATH).status_code == 200
