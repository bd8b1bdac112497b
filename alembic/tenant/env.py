"""Alembic environment of the tenant stream.

`ezscale db upgrade` passes an open connection in `config.attributes["connection"]`; the plain
`alembic` command line works too (`alembic -n tenant -x tenant=<database_name> upgrade head`).
"""

import sqlalchemy as sa
from alembic import context

import ezscale.models.schema  # noqa: F401  (registers every table)
from ezscale.db import engine_for, tenant_database_url
from ezscale.models.tenant import TenantModel

target_metadata = TenantModel.metadata


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = engine_for(tenant_database_url(context.get_x_argument(as_dictionary=True)["tenant"]))
    with engine.connect() as conn:
        run(conn)
