"""Run the two Alembic streams: central first, then every tenant database."""

from collections.abc import Callable
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import select

from ezscale.db import (
    central_engine,
    central_session,
    create_central_database,
    create_engine,
    tenant_database_url,
)
from ezscale.models.central import Tenant

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


@cache
def _config(stream: str) -> Config:
    return Config(str(ALEMBIC_INI), ini_section="alembic" if stream == "central" else stream)


@cache
def head_revisions(stream: str) -> frozenset[str]:
    """Heads of a stream (several while domain branches are developed side by side)."""
    return frozenset(ScriptDirectory.from_config(_config(stream)).get_heads())


def _upgrade(url: str, stream: str) -> bool:
    """Upgrade one database to every head; returns False when it was already there."""
    # Tenants are migrated over a throw-away connection: `db upgrade` over hundreds of tenants
    # must not leave a pool open per tenant.
    engine = central_engine() if stream == "central" else create_engine(url, poolclass=sa.NullPool)
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
    create_central_database()
    return _upgrade("", "central")


def upgrade_tenant(database_name: str) -> bool:
    return _upgrade(tenant_database_url(database_name), "tenant")


def upgrade_all(progress: Callable[[str, bool], None] | None = None) -> int:
    """Migrate central, then every tenant; returns how many databases changed."""
    changed = int(upgrade_central())
    with central_session() as session:
        names = session.exec(select(Tenant.database_name).order_by(Tenant.id)).all()
    for name in names:
        did = upgrade_tenant(name)
        changed += did
        if progress:
            progress(name, did)
    return changed


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
