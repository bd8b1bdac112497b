import sqlalchemy as sa
from alembic import command

from ezscale.db import engine_for, tenant_database_url
from ezscale.services import migrations
from ezscale.services.migrations import upgrade_all


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
