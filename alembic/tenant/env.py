"""Alembic environment of the tenant stream.

`ezscale db upgrade` passes an open connection in `config.attributes["connection"]`; the plain
`alembic` command line works too (`alembic -n tenant -x tenant=<database_name> upgrade head`).
"""

from alembic import context

import ezscale.models.schema  # noqa: F401  (registers every table)
from ezscale.db import tenant_database_url
from ezscale.migrations import run_environment
from ezscale.models.tenant import TenantModel

run_environment(
    TenantModel.metadata,
    lambda: tenant_database_url(context.get_x_argument(as_dictionary=True)["tenant"]),
)
