"""The daily rates task against the loopback ECB feed: idempotent, concurrent-safe, and a bad
feed changes nothing and says why (log line and alert)."""

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import func, select

from ezscale.db import central_session
from ezscale.models.fx import FxRate
from ezscale.services.fx import rates, refresh
from ezscale.settings import get_settings
from ezscale.simulators.discord import DiscordSink, serve_discord
from ezscale.simulators.ecb import DEFAULT_RATES
from ezscale.tasks.fx import refresh_rates
from tests.services.fx.support import FEED_DAY


@pytest.fixture
def alerts(monkeypatch):
    """Alerts go to a loopback Discord sink."""
    sink = DiscordSink()
    running = serve_discord(sink)
    monkeypatch.setenv("ALERT_DISCORD_WEBHOOK_URL", running.url + "/api/webhooks/1/token")
    get_settings.cache_clear()
    yield sink
    running.stop()
    get_settings.cache_clear()


def _rows(central) -> list[tuple[date, str, str]]:
    central.expire_all()
    return list(
        central.exec(
            select(FxRate.rate_date, FxRate.currency, FxRate.rate_per_eur).order_by(
                FxRate.rate_date, FxRate.currency
            )
        )
    )


def test_the_task_twice_stores_one_row_per_date_and_currency(central, ecb, clock):
    clock.set(datetime(2026, 11, 27, 15, 35, tzinfo=UTC))
    first, second = refresh_rates(), refresh_rates()
    assert first == {"rate_date": "2026-11-27", "added": len(DEFAULT_RATES), "error": ""}
    assert second == {"rate_date": "2026-11-27", "added": 0, "error": ""}
    stored = _rows(central)
    assert len(stored) == len(DEFAULT_RATES) == len({(d, c) for d, c, _ in stored})
    # Exactly as published: decimal strings, the ECB's own digits.
    assert ("USD", "1.1650") in [(c, r) for _, c, r in stored] and ("GBP", "0.86250") in [
        (c, r) for _, c, r in stored
    ]

    # A correction published later for the same day does not rewrite what invoices may have used.
    ecb.set_day(FEED_DAY, {"USD": "1.2000"})
    assert refresh_rates()["added"] == 0
    assert rates.table_on(central).per_eur["USD"] == Decimal("1.1650")

    # The next working day adds its own rows; lookups take the latest day on or before a date.
    clock.set(datetime(2026, 11, 30, 15, 35, tzinfo=UTC))
    ecb.set_day(date(2026, 11, 30), {"USD": "1.1702"})
    assert refresh_rates()["added"] == len(DEFAULT_RATES)
    assert len(_rows(central)) == 2 * len(DEFAULT_RATES)
    assert rates.table_on(central, date(2026, 11, 29)).rate_date == FEED_DAY
    assert rates.table_on(central).per_eur["USD"] == Decimal("1.1702")


def test_concurrent_runs_store_each_rate_once(central, ecb, clock):
    clock.set(datetime(2026, 11, 27, 15, 35, tzinfo=UTC))
    start = threading.Barrier(3)
    results: list[refresh.RefreshResult] = []

    def run() -> None:
        with central_session() as session:
            start.wait()
            results.append(refresh.refresh_rates(session, url=get_settings().ecb_rates_url))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [r.error for r in results] == ["", "", ""]
    assert sum(r.added for r in results) == len(DEFAULT_RATES)
    count = central.exec(select(func.count()).select_from(FxRate)).one()
    assert count == len(DEFAULT_RATES)


@pytest.mark.parametrize(
    ("fault", "day", "message"),
    [
        ("500", FEED_DAY, "answered HTTP 500"),
        ("malformed", FEED_DAY, "not well-formed XML"),
        ("empty", FEED_DAY, "has 0 currencies; expected at least 20"),
        ("negative", FEED_DAY, "rate for USD ('-1.1650') is not a positive number"),
        (None, FEED_DAY - timedelta(days=9), "more than 5 days ago"),
        (None, FEED_DAY + timedelta(days=5), "after today"),
    ],
)
def test_a_bad_feed_changes_nothing_and_alerts(central, ecb, clock, alerts, caplog, fault, day, message):
    clock.set(datetime(2026, 11, 26, 15, 35, tzinfo=UTC))
    ecb.set_day(date(2026, 11, 26))
    assert refresh_rates()["error"] == ""
    before = _rows(central)

    clock.set(datetime(2026, 11, 27, 15, 35, tzinfo=UTC))
    ecb.set_day(day, {"USD": "9.9999"})
    ecb.fail(fault)
    with caplog.at_level(logging.ERROR, logger="ezscale.services.fx.refresh"):
        result = refresh_rates()

    assert result["added"] == 0 and result["rate_date"] is None
    assert message in result["error"]
    assert _rows(central) == before  # nothing written, nothing overwritten
    assert any(
        "exchange rates not updated" in r.getMessage() and message in r.getMessage() for r in caplog.records
    )
    [alert] = alerts.messages
    assert alert["embeds"][0]["title"] == "Exchange rates not updated"
    assert message in alert["embeds"][0]["description"]
    assert "rates already stored are kept" in alert["embeds"][0]["description"]


def test_an_unreachable_feed_is_reported_the_same_way(central, clock, alerts, monkeypatch):
    clock.set(datetime(2026, 11, 27, 15, 35, tzinfo=UTC))
    monkeypatch.setenv("EZSCALE_ECB_RATES_URL", "http://127.0.0.1:9/stats/eurofxref/eurofxref-daily.xml")
    get_settings.cache_clear()
    result = refresh_rates()
    assert "could not be reached" in result["error"]
    assert _rows(central) == [] and len(alerts.messages) == 1


def test_a_document_type_declaration_is_refused():
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(refresh.feed.FeedError, match="document type declaration"):
        refresh.feed.parse(body)
