"""Imports every model module, so that both metadatas are complete wherever they are used
(Alembic autogenerate and migrations). Add a line here for each new model module."""

import ezscale.models.admin
import ezscale.models.analytics
import ezscale.models.auth
import ezscale.models.billing
import ezscale.models.central
import ezscale.models.fx
import ezscale.models.kasm
import ezscale.models.payments
import ezscale.models.provisioning
import ezscale.models.tenant  # noqa: F401
