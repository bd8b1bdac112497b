"""The one place that creates engines and sessions: the central database and one per tenant."""

import os
import secrets
import shutil
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
        # At most 10 at once per engine, 6 of them kept between bursts. A connection closed after
        # a burst and opened at the next costs PostgreSQL a new backend; with 2 kept, the
        # provisioning benchmark opened 700 connections a run.
        options.setdefault("pool_size", 6)
        options.setdefault("max_overflow", 4)
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


def server_database_url(database_name: str) -> str:
    """URL of another database on the central database's PostgreSQL server."""
    return (
        make_url(get_settings().central_url).set(database=database_name).render_as_string(hide_password=False)
    )


def tenant_database_url(database_name: str) -> str:
    """SQLAlchemy URL of a tenant's own database: a file on SQLite, a database on PostgreSQL."""
    settings = get_settings()
    if settings.is_postgres:
        return server_database_url(database_name)
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
    drop_database_at(tenant_database_url(database_name))


def drop_database_at(url: str) -> None:
    """Drop the database at `url` (its file and journal on SQLite) if it exists."""
    dispose_engine(url)
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    finally:
        engine.dispose()


def database_exists(url: str) -> bool:
    if url.startswith("sqlite"):
        return Path(make_url(url).database or "").exists()
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": make_url(url).database}
            ).scalar()
    finally:
        engine.dispose()
    return bool(found)


def server_databases(prefix: str) -> list[str]:
    """Names of the PostgreSQL server's databases that start with `prefix`."""
    pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": pattern}
            )
            return sorted(rows.scalars())
    finally:
        engine.dispose()


class TemplateUnavailable(Exception):
    """The template to copy is missing, or (PostgreSQL) another session is connected to it."""


def clone_database(template_url: str, url: str) -> None:
    """Create the database `url` as a copy of `template_url`: a file copy on SQLite, `CREATE
    DATABASE … TEMPLATE` on PostgreSQL. PostgreSQL refuses while any session is connected to the
    template (after waiting 5 s for them to leave), so nothing keeps a connection to one open."""
    if url.startswith("sqlite"):
        source, target = Path(make_url(template_url).database or ""), Path(make_url(url).database or "")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
        try:
            shutil.copyfile(source, partial)
        except FileNotFoundError as error:
            raise TemplateUnavailable(f"no template file {source}") from error
        try:
            os.link(partial, target)  # never over an existing database, as PostgreSQL refuses too
        finally:
            partial.unlink()
        return
    template, name = make_url(template_url).database, make_url(url).database
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    except sa.exc.DBAPIError as error:
        # 3D000: no such template; 55006: a session is connected to it.
        if getattr(error.orig, "sqlstate", None) in ("3D000", "55006"):
            raise TemplateUnavailable(str(error.orig).strip()) from error
        raise
    finally:
        engine.dispose()


def publish_database(url: str, final_url: str) -> bool:
    """Rename a finished database to `final_url` in one step, unless another process already
    published one there (then this one is dropped and False returned)."""
    if url.startswith("sqlite"):
        source, target = Path(make_url(url).database or ""), Path(make_url(final_url).database or "")
        try:
            os.link(source, target)
        except FileExistsError:
            return False
        finally:
            source.unlink(missing_ok=True)
        return True
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            old, new = make_url(url).database, make_url(final_url).database
            conn.execute(sa.text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
        return True
    except sa.exc.ProgrammingError as error:
        if getattr(error.orig, "sqlstate", None) != "42P04":  # duplicate_database
            raise
    finally:
        engine.dispose()
    drop_database_at(url)
    return False


def create_central_database() -> None:
    """Make sure the central database exists (PostgreSQL) before migrating it."""
    settings = get_settings()
    if settings.is_postgres:
        create_database(make_url(settings.central_url).database or "")
