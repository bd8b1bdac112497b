"""Alembic environment of the central stream.

`ezscale db upgrade` passes an open connection in `config.attributes["connection"]`; the plain
`alembic` command line works too (`alembic -n tenant -x tenant=<database_name> upgrade head`).
"""

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import ezscale.models.schema  # noqa: F401  (registers every table)
from ezscale.db import engine_for
from ezscale.settings import get_settings

target_metadata = SQLModel.metadata


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
    engine = engine_for(get_settings().central_url)
    with engine.connect() as conn:
        run(conn)
