"""Fixtures shared by the billing tests: localstripe (customers, plans, cards: tests/factories.py)."""

from collections.abc import Iterator

import pytest

from ezscale.settings import get_settings
from ezscale.simulators import stripe as stripe_simulator


@pytest.fixture(scope="session")
def stripe_sim() -> Iterator[str]:
    """A localstripe process on a free loopback port for the whole test session."""
    port = stripe_simulator.free_port()
    process = stripe_simulator.start(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def stripe_env(stripe_sim, monkeypatch) -> str:
    """Point the billing services at the simulator (no retry back-off in tests)."""
    monkeypatch.setenv("STRIPE_API_BASE", stripe_sim)
    monkeypatch.setenv("EZSCALE_STRIPE_RETRY_BASE_SECONDS", "0")
    get_settings.cache_clear()
    return stripe_sim
