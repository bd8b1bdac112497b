"""Run the two Alembic streams, and keep a template of each at the head revision.

A new tenant database is a copy of the tenant template (a file copy on SQLite, `CREATE DATABASE …
TEMPLATE` on PostgreSQL) instead of a run of every migration. Templates are named by a key of the
stream's revision graph, so new code never copies an old template: until `ezscale db upgrade`
builds the new one, databases are created empty and migrated as before.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from ezscale.db import (
    TemplateUnavailable,
    central_engine,
    clone_database,
    create_central_database,
    create_database,
    create_engine,
    database_exists,
    drop_database_at,
    publish_database,
    server_database_url,
    server_databases,
    tenant_database_url,
)
from ezscale.settings import get_settings

log = logging.getLogger(__name__)

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


@cache
def _config(stream: str) -> Config:
    return Config(str(ALEMBIC_INI), ini_section="alembic" if stream == "central" else stream)


@cache
def head_revisions(stream: str) -> frozenset[str]:
    """Heads of a stream (several while domain branches are developed side by side)."""
    return frozenset(ScriptDirectory.from_config(_config(stream)).get_heads())


@cache
def template_key(stream: str) -> str:
    """Names the stream's revision graph (every revision and its parents, so a re-chained
    history is a new key too)."""
    scripts = ScriptDirectory.from_config(_config(stream))
    graph = sorted(f"{rev.revision}<{rev.down_revision}" for rev in scripts.walk_revisions())
    return hashlib.sha1("\n".join(graph).encode()).hexdigest()[:12]


def _upgrade(url: str | None, stream: str) -> bool:
    """Upgrade one database (None: the central one) to every head; returns False when it was
    already there."""
    # Tenants are migrated over a throw-away connection: `db upgrade` over hundreds of tenants
    # must not leave a pool open per tenant.
    engine = central_engine() if url is None else create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
        if frozenset(current) == head_revisions(stream):
            return False
        config = _config(stream)
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "heads")
        finally:
            config.attributes.pop("connection", None)
    return True


def upgrade_central() -> bool:
    """Create the central database if needed and upgrade it; returns False if it was up to date."""
    create_central_database()
    return _upgrade(None, "central")


def upgrade_tenant(database_name: str) -> bool:
    """Upgrade one tenant database; returns False if it was up to date."""
    return _upgrade(tenant_database_url(database_name), "tenant")


def _template_name(stream: str) -> str:
    return f"{stream}_{template_key(stream)}"


def template_url(stream: str) -> str:
    """Where the stream's template at the head revision lives (it may not exist yet)."""
    settings = get_settings()
    if settings.is_postgres:
        return server_database_url(_template_db_prefix() + _template_name(stream))
    return f"sqlite:///{(_template_dir() / f'{_template_name(stream)}.sqlite').resolve()}"


def _template_db_prefix() -> str:
    settings = get_settings()
    return settings.template_db_prefix or f"{settings.tenant_db_prefix}_template_"


def _template_dir() -> Path:
    settings = get_settings()
    return settings.template_dir or settings.data_dir / "templates"


def ensure_template(stream: str) -> bool:
    """Build the stream's template unless it exists, and drop the stream's older templates.
    Safe to run concurrently: each builder migrates its own copy and publishes it by a rename."""
    final = template_url(stream)
    if not database_exists(final):
        building = _building_url(final)
        try:
            create_database(make_url(building).database or "")
            _upgrade(building, stream)
            if building.startswith("sqlite"):
                _detach_journal(building)
            built = publish_database(building, final)
        except Exception:
            drop_database_at(building)
            raise
    else:
        built = False
    for url in _stale_templates(stream):
        drop_database_at(url)
    return built


def _building_url(final: str) -> str:
    url = make_url(final)
    name = url.database or ""
    if final.startswith("sqlite"):
        path = Path(name)
        return f"sqlite:///{path.with_name(f'.{path.stem}-{secrets.token_hex(4)}.sqlite')}"
    return url.set(database=f"{name}_b{secrets.token_hex(4)}").render_as_string(hide_password=False)


def _detach_journal(url: str) -> None:
    """Fold the write-ahead log into the file, so that the file alone is the whole database."""
    engine = create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()


def _stale_templates(stream: str) -> list[str]:
    """Templates of the stream built from another revision graph (keeps builds in progress)."""
    current = _template_name(stream)
    if get_settings().is_postgres:
        prefix = _template_db_prefix()
        names = server_databases(f"{prefix}{stream}_")
        return [server_database_url(n) for n in names if not n.startswith(prefix + current)]
    return [
        f"sqlite:///{path.resolve()}"
        for path in _template_dir().glob(f"{stream}_*.sqlite")
        if path.stem != current
    ]


def provision_tenant_database(database_name: str) -> None:
    """A new tenant database at the head revision: a copy of the template, or when that is
    missing or busy, an empty database migrated from scratch."""
    try:
        clone_database(template_url("tenant"), tenant_database_url(database_name))
        return
    except TemplateUnavailable as reason:
        log.info("tenant %s migrated from scratch: %s", database_name, reason)
    create_database(database_name)
    upgrade_tenant(database_name)


def run_environment(metadata: sa.MetaData, url: Callable[[], str]) -> None:
    """Body of both Alembic env.py files: use the connection `_upgrade` passed in, or open one
    to `url()` when the plain `alembic` command line runs."""
    from alembic import context

    def run(connection: sa.Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    with create_engine(url(), poolclass=sa.NullPool).connect() as opened:
        run(opened)
