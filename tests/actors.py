"""Signed-in users for service calls that check who acts (no session needed), and the audit
trail those calls leave."""

import json

from ezscale.services.accounts.sessions import AuthRole, AuthUser
from ezscale.services.core.audit import AuditFilter, list_audit


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


def admin(tenant_id: int = 1) -> AuthUser:
    """A platform admin (`tenant_id` is the house tenant's id)."""
    return AuthUser(
        id=1, tenant_id=tenant_id, email="admin@ezscale.test", name="Admin", role=AuthRole.PLATFORM_ADMIN
    )


def audit_trail(action: str) -> list[tuple[str, str, str, dict, str]]:
    """The audit rows whose action contains `action`, oldest first: (actor, action, target, after, ip)."""
    rows = reversed(list_audit(AuditFilter(action=action)))
    return [(e.actor_email, e.action, e.target, json.loads(e.after or "{}"), e.ip) for e in rows]
