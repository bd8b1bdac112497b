"""Signed-in reseller users for service calls that check who acts (no session needed)."""

from ezscale.services.accounts.sessions import AuthRole, AuthUser


def owner(tenant) -> AuthUser:
    """The owner of `tenant` (a Tenant, a TenantInfo or its id)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.id
    return AuthUser(
        id=1, tenant_id=tenant_id, email="owner@reseller.test", name="Owner", role=AuthRole.RESELLER_OWNER
    )


def staff(tenant) -> AuthUser:
    tenant_id = tenant if isinstance(tenant, int) else tenant.id
    return AuthUser(
        id=2, tenant_id=tenant_id, email="staff@reseller.test", name="Staff", role=AuthRole.RESELLER_STAFF
    )
