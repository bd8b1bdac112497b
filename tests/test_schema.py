"""The migrations build exactly the tables the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import ezscale.models.schema  # noqa: F401
from ezscale.db import central_engine, engine_for, tenant_database_url
from ezscale.models.tenant import TenantModel


def _differences(engine, metadata) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_central_migrations_match_models(platform):
    assert _differences(central_engine(), SQLModel.metadata) == []


def test_tenant_migrations_match_models(make_tenant):
    tenant = make_tenant("schema")
    assert _differences(engine_for(tenant_database_url(tenant.database_name)), TenantModel.metadata) == []
