"""Shared set-up for benchmarks: a throw-away platform on SQLite or PostgreSQL."""

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from ezscale.db import dispose_engines
from ezscale.settings import get_settings, normalise_url

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_url() -> str | None:
    """The PostgreSQL server to use, if one answers (DATABASE_URL or the local default)."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_PG
    try:
        engine = sa.create_engine(normalise_url(url), poolclass=sa.NullPool)
        with engine.connect():
            pass
        engine.dispose()
        return url
    except sa.exc.OperationalError:
        return None


@contextmanager
def bench_platform(backend: str) -> Iterator[str]:
    """Point ezscale at a fresh platform; yields the tenant database prefix. Cleans up after."""
    run = secrets.token_hex(3)
    prefix = f"ezb_{run}_"
    os.environ["EZSCALE_DATA_DIR"] = tempfile.mkdtemp(prefix="ezscale-bench-")
    os.environ["EZSCALE_TENANT_DB_PREFIX"] = prefix
    given = os.environ.get("DATABASE_URL")  # put back afterwards: a next run starts from it again
    base = postgres_url() if backend == "postgres" else None
    if backend == "postgres":
        if base is None:
            raise SystemExit("PostgreSQL is not reachable (set DATABASE_URL).")
        url = make_url(normalise_url(base)).set(database=f"{prefix}_central")
        os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)
    else:
        os.environ.pop("DATABASE_URL", None)
    get_settings.cache_clear()
    dispose_engines()
    try:
        yield prefix
    finally:
        dispose_engines()
        if given is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = given
        get_settings.cache_clear()
        if base:
            admin = make_url(normalise_url(base)).set(database="postgres")
            engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
            with engine.connect() as conn:
                names = conn.execute(
                    sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                    {"p": prefix + "%"},
                ).scalars()
                for name in list(names):
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()
