"""Test fixtures: a fresh platform (central database + tenant databases) per test.

Runs on SQLite files by default; when DATABASE_URL names PostgreSQL, every test gets its own
central database and tenant databases with a unique prefix, dropped afterwards. Both are copies
of templates migrated once per session (the tenant one is what `create_tenant` copies in
production too), not a run of every migration per test.
"""

import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

_RUN_ID = secrets.token_hex(3)
_SESSION_DIR = Path(tempfile.mkdtemp(prefix=f"ezscale-tests-{_RUN_ID}-"))
# The server the run was pointed at; handed on to `pytest -n` workers, which start after the pop.
_BASE_DATABASE_URL = os.environ.get("DATABASE_URL") or os.environ.get("EZSCALE_TEST_SERVER_URL") or None
if _BASE_DATABASE_URL:
    os.environ["EZSCALE_TEST_SERVER_URL"] = _BASE_DATABASE_URL
os.environ["EZSCALE_DATA_DIR"] = str(_SESSION_DIR / "default")
os.environ.pop("DATABASE_URL", None)
os.environ["EZSCALE_TEMPLATE_DIR"] = str(_SESSION_DIR / "templates")
os.environ["EZSCALE_TEMPLATE_DB_PREFIX"] = f"ezt_{_RUN_ID}_template_"
# The loopback gateway simulators are the only non-public hosts a reseller may name in tests.
os.environ.setdefault("EZSCALE_GATEWAY_HOST_ALLOWLIST", "127.0.0.1,localhost")

from ezscale import clock as clock_module  # noqa: E402
from ezscale.db import central_session, clone_database, dispose_engines  # noqa: E402
from ezscale.migrations import ensure_template, template_url  # noqa: E402
from ezscale.settings import get_settings, normalise_url  # noqa: E402
from ezscale.tasks import celery_app  # noqa: E402

# Test sessions may share one Redis: each consumes its own queue.
celery_app.conf.task_default_queue = f"ezscale-test-{_RUN_ID}"
celery_app.conf.task_routes = {}  # the critical queue too: tests never feed a running worker

_counter = iter(range(1, 1_000_000))

# Billing fixtures (localstripe): stripe_sim, stripe_env; currency fixtures (ECB feed): ecb, rates_stored.
pytest_plugins = ["tests.services.billing.support", "tests.services.fx.support"]


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


@pytest.fixture(scope="session")
def database_templates() -> None:
    """The central and tenant templates at the head revision, built once per session (they are
    named by the revision graph, so changed migrations get new ones)."""
    with pytest.MonkeyPatch.context() as patch:
        if _BASE_DATABASE_URL:
            patch.setenv("DATABASE_URL", _BASE_DATABASE_URL)
        get_settings.cache_clear()
        ensure_template("central")
        ensure_template("tenant")
    get_settings.cache_clear()


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch, database_templates) -> Iterator[Path]:
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
    clone_database(template_url("central"), get_settings().central_url)
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
def setting(monkeypatch):
    """Set an environment setting for one test: setting("EZSCALE_X", "1")."""

    def set_(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_
    get_settings.cache_clear()


@pytest.fixture
def redis_url():
    """Redis for the change signal (CI runs it for both databases); the settings see it here only."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on this machine")
    before = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = url
    get_settings.cache_clear()
    yield url
    if before is None:
        del os.environ["REDIS_URL"]
    get_settings.cache_clear()


@pytest.fixture
def make_tenant(central, request):
    """Create a tenant in the current platform: make_tenant("acme", name="Acme", ...).

    In a test with the Stripe simulator a reseller connects its own Stripe account (its
    customers pay into it), unless `connected=False`."""
    from ezscale.services.tenancy.tenants import create_tenant

    def make(slug: str, *, connected: bool = True, **kwargs):
        kwargs.setdefault("name", slug.title())
        kwargs.setdefault("owner_email", f"owner@{slug}.test")
        tenant = create_tenant(central, slug=slug, **kwargs)
        if connected and not tenant.is_house and "stripe_env" in request.fixturenames:
            from tests.factories import connect_reseller

            request.getfixturevalue("stripe_env")
            connect_reseller(central, tenant)
            central.refresh(tenant)
        return tenant

    return make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests are slow too."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under `pytest -n N`: the browser tests share one live app (its build directory is one), so
    they all go to one worker as one unit; every other test goes to whichever worker is free.
    (xdist's `loadgroup` does not group under pytest 9.2, whose node ids ignore its suffix.)"""
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "browser" if nodeid.startswith("tests/browser/") else nodeid

    return BrowserTestsTogether(config, log)


def pytest_sessionfinish(session, exitstatus) -> None:
    if _BASE_DATABASE_URL:
        _drop_databases(f"ezt_{_RUN_ID}_")
