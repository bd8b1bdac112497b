"""Placeholder until prov-core's jobs/lifecycle land: how a customer's paid plan change and
immediate cancellation reach the panel."""

from sqlmodel import Session

from ezscale.services.tenancy.tenants import TenantInfo


def change_package(session: Session, *, tenant: TenantInfo, service_id: int) -> None:
    """Queue the package change of a service whose plan change is paid."""


def terminate(session: Session, *, tenant: TenantInfo, service_id: int) -> None:
    """Queue the removal of a cancelled service from its panel."""
