"""The audit trail: every admin and reseller change, with before/after, in the central database.

The service that makes a change writes its audit row: on the central database it passes its own
`session` so the row commits with the change (same transaction); a change in a tenant database
is audited right after its commit.
"""

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.auth import AuditEntry
from ezscale.models.types import row_id
from ezscale.services.accounts.sessions import AuthUser

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit entries to list; empty fields do not filter."""

    tenant_id: int | None = None
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _dump(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, default=str)


def record_audit(
    *,
    actor: AuthUser,
    action: str,
    target: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str = "",
    session: Session | None = None,
) -> int:
    """Write one audit row (who, what, before/after, when, from where); returns its id.

    With `session` (a central session) the row is only added and flushed: it commits, or rolls
    back, with the caller's change."""
    entry = AuditEntry(
        tenant_id=actor.tenant_id,
        actor_email=actor.email,
        actor_role=actor.role,
        action=action[:80],
        target=target[:200],
        before=_dump(before),
        after=_dump(after),
        ip=ip[:45],
        created_at=clock.now(),
    )
    if session is not None:
        session.add(entry)
        session.flush()
        return row_id(entry)
    with central_session() as own:
        own.add(entry)
        own.commit()
        return row_id(entry)


def operator(name: str, *, tenant_id: int = 0) -> AuthUser:
    """An actor outside the web areas (the command line, a job) for the audit trail. Tenant 0 is
    shown as "platform" and never appears in a reseller's own trail; a job acting for one
    reseller (its wholesale billing) passes `tenant_id` so the change shows on that trail."""
    return AuthUser(id=0, tenant_id=tenant_id, email=name, name=name, role="operator")


def record_change(
    *,
    actor: AuthUser,
    action: str,
    target: str,
    before: "DataclassInstance | None",
    after: "DataclassInstance",
    ip: str = "",
) -> int:
    """Audit an edit of a row shown as a dataclass: only the fields that changed (never `id`),
    with their old values; `before=None` for a new row."""
    old = {} if before is None else asdict(before)
    new = {k: v for k, v in asdict(after).items() if k != "id" and old.get(k) != v}
    previous = {k: old[k] for k in new} if before is not None else None
    return record_audit(actor=actor, action=action, target=target, before=previous, after=new, ip=ip)


def list_audit(filters: AuditFilter = AuditFilter(), *, limit: int = 200) -> list[AuditEntry]:
    """Newest first; actor and action match as case-insensitive substrings."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if filters.tenant_id is not None:
        query = query.where(AuditEntry.tenant_id == filters.tenant_id)
    if filters.actor:
        query = query.where(col(AuditEntry.actor_email).ilike(f"%{filters.actor.strip()}%"))
    if filters.action:
        query = query.where(col(AuditEntry.action).ilike(f"%{filters.action.strip()}%"))
    if filters.since is not None:
        query = query.where(AuditEntry.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.created_at < filters.until)
    with central_session() as session:
        return list(session.exec(query))
