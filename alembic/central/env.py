"""Alembic environment of the central stream.

`ezscale db upgrade` passes an open connection in `config.attributes["connection"]`; the plain
`alembic` command line works too (`alembic upgrade heads`).
"""

from sqlmodel import SQLModel

import ezscale.models.schema  # noqa: F401  (registers every table)
from ezscale.migrations import run_environment
from ezscale.settings import get_settings

run_environment(SQLModel.metadata, lambda: get_settings().central_url)
