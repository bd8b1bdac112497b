"""Test fixtures: a fresh platform (central database + tenant databases) per test.

Runs on SQLite files by default; when DATABASE_URL names PostgreSQL, every test gets its own
central database and tenant databases with a unique prefix, dropped afterwards.
"""

import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

_RUN_ID = secrets.token_hex(3)
_SESSION_DIR = Path(tempfile.mkdtemp(prefix=f"ezscale-tests-{_RUN_ID}-"))
_BASE_DATABASE_URL = os.environ.get("DATABASE_URL") or None
os.environ["EZSCALE_DATA_DIR"] = str(_SESSION_DIR / "default")
os.environ.pop("DATABASE_URL", None)

from ezscale import clock as clock_module  # noqa: E402
from ezscale.db import central_session, dispose_engines  # noqa: E402
from ezscale.settings import get_settings, normalise_url  # noqa: E402
from ezscale.tasks import celery_app  # noqa: E402

# Test sessions may share one Redis: each consumes its own queue.
celery_app.conf.task_default_queue = f"ezscale-test-{_RUN_ID}"

_counter = iter(range(1, 1_000_000))

# Billing fixtures (localstripe): stripe_sim, stripe_env.
pytest_plugins = ["tests.services.billing_support"]


def _admin_url() -> str:
    return (
        make_url(normalise_url(_BASE_DATABASE_URL))
        .set(database="postgres")
        .render_as_string(hide_password=False)
    )


def _drop_databases(prefix: str) -> None:
    engine = sa.create_engine(_admin_url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        names = conn.execute(
            sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": prefix + "%"}
        ).scalars()
        for name in list(names):
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new, migrated, empty platform: its own data dir, central DB and tenant DB prefix."""
    n = next(_counter)
    data_dir = _SESSION_DIR / f"p{n}"
    monkeypatch.setenv("EZSCALE_DATA_DIR", str(data_dir))
    prefix = f"ezt_{_RUN_ID}_{n}_"
    monkeypatch.setenv("EZSCALE_TENANT_DB_PREFIX", prefix)
    if _BASE_DATABASE_URL:
        url = make_url(normalise_url(_BASE_DATABASE_URL)).set(database=f"{prefix}_central")
        monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    dispose_engines()
    from ezscale.services.migrations import upgrade_central

    upgrade_central()
    yield data_dir
    dispose_engines()
    if _BASE_DATABASE_URL:
        _drop_databases(prefix)
    get_settings.cache_clear()


@pytest.fixture
def central(platform) -> Iterator:
    with central_session() as session:
        yield session


@pytest.fixture
def clock() -> Iterator[clock_module.FrozenClock]:
    frozen = clock_module.FrozenClock(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    previous = clock_module.set_clock(frozen)
    yield frozen
    clock_module.set_clock(previous)


@pytest.fixture
def make_tenant(central):
    """Create a tenant in the current platform: make_tenant("acme", name="Acme", ...)."""
    from ezscale.services.tenancy import create_tenant

    def make(slug: str, **kwargs):
        kwargs.setdefault("name", slug.title())
        kwargs.setdefault("owner_email", f"owner@{slug}.test")
        return create_tenant(central, slug=slug, **kwargs)

    return make


def pytest_sessionfinish(session, exitstatus) -> None:
    if _BASE_DATABASE_URL:
        _drop_databases(f"ezt_{_RUN_ID}_")
