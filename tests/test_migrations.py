import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext

from ezscale import migrations
from ezscale.db import (
    central_session,
    clone_database,
    create_engine,
    database_exists,
    engine_for,
    tenant_database_url,
)
from ezscale.errors import DomainError
from ezscale.migrations import template_url
from ezscale.services.tenancy.tenants import create_tenant, upgrade_all
from ezscale.settings import get_settings
from tests.factories import break_database, purge


def _tables(database_name: str) -> set[str]:
    return set(sa.inspect(engine_for(tenant_database_url(database_name))).get_table_names())


def _downgrade_to_base(database_name: str) -> None:
    config = migrations._config("tenant")
    with engine_for(tenant_database_url(database_name)).begin() as connection:
        config.attributes["connection"] = connection
        try:
            command.downgrade(config, "base")
        finally:
            config.attributes.pop("connection", None)


def test_db_upgrade_migrates_every_tenant_of_an_existing_install_and_twice_changes_nothing(
    make_tenant,
):
    tenants = [make_tenant("one"), make_tenant("two"), make_tenant("three")]
    for tenant in tenants[:2]:
        _downgrade_to_base(tenant.database_name)
        assert "users" not in _tables(tenant.database_name)

    changed: list[tuple[str, bool]] = []
    assert upgrade_all(lambda name, did: changed.append((name, did))) == 2
    assert changed == [(t.database_name, t in tenants[:2]) for t in tenants]
    for tenant in tenants:
        assert {"users", "plans", "invoices", "alembic_version"} <= _tables(tenant.database_name)

    before = {t.database_name: _tables(t.database_name) for t in tenants}
    assert upgrade_all() == 0
    assert {t.database_name: _tables(t.database_name) for t in tenants} == before


def test_db_upgrade_goes_on_past_a_broken_tenant_and_skips_purged_ones(make_tenant, central):
    broken, purged, behind = make_tenant("broken"), make_tenant("purged"), make_tenant("behind")
    break_database(broken.database_name)
    purge(central, "purged")
    _downgrade_to_base(behind.database_name)

    with pytest.raises(DomainError, match="Could not migrate the database of broken"):
        upgrade_all()
    assert "users" in _tables(behind.database_name)
    assert not database_exists(tenant_database_url(purged.database_name))


def test_a_new_tenant_is_a_copy_of_the_template_at_the_head_revision(make_tenant):
    template = template_url("tenant")
    assert database_exists(template)
    tenant = make_tenant("copied")
    with engine_for(tenant_database_url(tenant.database_name)).connect() as connection:
        heads = set(MigrationContext.configure(connection).get_current_heads())
    assert heads == migrations.head_revisions("tenant")
    assert "plans" in _tables(tenant.database_name)


def _own_templates(monkeypatch, tmp_path) -> None:
    """Templates of this test only (the session's are shared by every test)."""
    monkeypatch.setenv("EZSCALE_TEMPLATE_DIR", str(tmp_path / "templates"))
    monkeypatch.setenv("EZSCALE_TEMPLATE_DB_PREFIX", f"{get_settings().tenant_db_prefix}_tpl_")
    get_settings.cache_clear()


def test_without_a_template_a_new_tenant_is_migrated_from_scratch_and_db_upgrade_builds_one(
    make_tenant, monkeypatch, tmp_path, caplog
):
    _own_templates(monkeypatch, tmp_path)
    template = template_url("tenant")
    caplog.set_level(logging.INFO, logger=migrations.__name__)

    scratch = make_tenant("scratch")
    assert {"users", "plans", "alembic_version"} <= _tables(scratch.database_name)
    assert f"tenant {scratch.database_name} migrated from scratch" in caplog.text
    assert not database_exists(template)

    upgrade_all()
    assert database_exists(template)
    caplog.clear()
    copy = make_tenant("copy")
    assert "from scratch" not in caplog.text
    assert _tables(copy.database_name) == _tables(scratch.database_name)


def test_db_upgrade_drops_templates_of_other_migrations(platform, monkeypatch, tmp_path):
    _own_templates(monkeypatch, tmp_path)
    current = template_url("tenant")
    stale = current.replace(migrations.template_key("tenant"), "0" * 12)
    assert migrations.ensure_template("tenant") is True
    clone_database(current, stale)  # as code of another revision graph left it

    assert migrations.ensure_template("tenant") is False
    assert database_exists(current) and not database_exists(stale)


def test_two_tenants_created_at_once_are_both_copies_at_the_head_revision(platform, caplog):
    caplog.set_level(logging.INFO, logger=migrations.__name__)

    def create(slug: str) -> str:
        with central_session() as session:
            return create_tenant(session, name=slug, slug=slug, owner_email=f"o@{slug}.test").database_name

    with ThreadPoolExecutor(max_workers=2) as pool:
        names = list(pool.map(create, ["left", "right"]))
    assert "from scratch" not in caplog.text
    for name in names:
        with engine_for(tenant_database_url(name)).connect() as connection:
            assert set(MigrationContext.configure(connection).get_current_heads()) == (
                migrations.head_revisions("tenant")
            )


@pytest.mark.slow
def test_a_session_connected_to_the_template_does_not_stop_tenant_creation(make_tenant, caplog):
    if not get_settings().is_postgres:
        pytest.skip("PostgreSQL only: a SQLite template is copied whoever reads it")
    caplog.set_level(logging.INFO, logger=migrations.__name__)
    engine = create_engine(template_url("tenant"), poolclass=sa.NullPool)
    with engine.connect():  # PostgreSQL refuses to copy a database others are connected to
        tenant = make_tenant("busy")
    engine.dispose()
    assert f"tenant {tenant.database_name} migrated from scratch" in caplog.text
    assert {"users", "plans"} <= _tables(tenant.database_name)
