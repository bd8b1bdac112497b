"""The one place that creates engines and sessions: the central database and one per tenant."""

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from ezscale.settings import get_settings

# Engines by URL, least recently used first. Tenant engines beyond the cap are disposed, so a
# platform with many tenants does not hold a connection pool open for each of them.
_engines: OrderedDict[str, Engine] = OrderedDict()
_engines_lock = Lock()
MAX_CACHED_ENGINES = 64


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str, **options) -> Engine:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **options)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_pre_ping", True)
    if options.get("poolclass") is None:
        options.setdefault("pool_size", 2)
        options.setdefault("max_overflow", 8)
    return sa.create_engine(url, **options)


def engine_for(url: str) -> Engine:
    """One cached engine per database URL (the central one is never evicted)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            _engines.move_to_end(url)
            return engine
        engine = _engines[url] = create_engine(url)
        central = get_settings().central_url
        while len(_engines) > MAX_CACHED_ENGINES:
            oldest = next(u for u in _engines if u != central)
            _engines.pop(oldest).dispose()
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, dropping a tenant database, forked workers)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def dispose_engine(url: str) -> None:
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def central_engine() -> Engine:
    return engine_for(get_settings().central_url)


@contextmanager
def central_session() -> Iterator[Session]:
    with Session(central_engine(), expire_on_commit=False) as session:
        yield session


def tenant_database_url(database_name: str) -> str:
    """SQLAlchemy URL of a tenant's own database: a file on SQLite, a database on PostgreSQL."""
    settings = get_settings()
    if settings.is_postgres:
        return (
            make_url(settings.central_url).set(database=database_name).render_as_string(hide_password=False)
        )
    path = (settings.data_dir / "tenants" / f"{database_name}.sqlite").resolve()
    return f"sqlite:///{path}"


@contextmanager
def tenant_session_for(database_name: str) -> Iterator[Session]:
    engine = engine_for(tenant_database_url(database_name))
    with Session(engine, expire_on_commit=False, info={"tenant_database": database_name}) as s:
        yield s


def _admin_engine() -> Engine:
    """A connection to the server's maintenance database, for CREATE/DROP DATABASE."""
    url = make_url(get_settings().central_url).set(database="postgres")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def create_database(database_name: str) -> None:
    """Create an empty tenant database (PostgreSQL); SQLite files appear on first connect."""
    if not get_settings().is_postgres:
        return
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database_name}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{database_name}"'))
    finally:
        engine.dispose()


def drop_database(database_name: str) -> None:
    url = tenant_database_url(database_name)
    dispose_engine(url)
    if not get_settings().is_postgres:
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def create_central_database() -> None:
    """Make sure the central database exists (PostgreSQL) before migrating it."""
    settings = get_settings()
    if settings.is_postgres:
        create_database(make_url(settings.central_url).database or "")
