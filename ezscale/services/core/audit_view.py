"""The audit trail and sign-in history as page rows: changed fields in words, tenants by name,
sign-ins from several sources in one newest-first order."""

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from ezscale.models.auth import AuditEntry
from ezscale.models.central import Tenant
from ezscale.money import Money

_TIME = "%Y-%m-%d %H:%M:%S"


def _value(value: object, currency: str = "") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if currency and isinstance(value, int):
        return Money(value, currency).format()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _load(text: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"value": text}
    return value if isinstance(value, dict) else {"value": value}


def changes_text(before: str, after: str, currency: str = "") -> str:
    """`before`/`after` JSON of an audit row as "price: $5.00 → $6.00; name: Pro" (a field only in
    `after` is shown with its new value, one only in `before` as removed). With the tenant's
    `currency`, `…_minor` amounts read as money ("amount: $5.00", not "amount minor: 500")."""
    old, new = _load(before), _load(after)
    parts = []
    for key in [*new, *(k for k in old if k not in new)]:
        money_field = bool(currency) and key.endswith("_minor")
        label = (key.removesuffix("_minor") if money_field else key).replace("_", " ")
        cur = currency if money_field else ""
        if key not in new:
            parts.append(f"{label}: {_value(old[key], cur)} → removed")
        elif key in old and old[key] != new[key]:
            parts.append(f"{label}: {_value(old[key], cur)} → {_value(new[key], cur)}")
        else:
            parts.append(f"{label}: {_value(new[key], cur)}")
    return "; ".join(parts)


def tenant_names(central: Session, ids: Iterable[int | None]) -> dict[int | None, tuple[str, str]]:
    """Name and currency of each tenant id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = central.exec(select(Tenant.id, Tenant.name, Tenant.currency).where(col(Tenant.id).in_(wanted)))
    return {tenant_id: (name, currency) for tenant_id, name, currency in rows}


def find_tenant_id(central: Session, text: str) -> int | None:
    """The tenant a filter names by id, slug or name (case-insensitive); None for an empty filter,
    0 (matches nothing) when no tenant fits."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    found = central.exec(
        select(Tenant.id).where(
            (func.lower(Tenant.slug) == text.lower()) | (func.lower(Tenant.name) == text.lower())
        )
    ).first()
    return found or 0


@dataclass(frozen=True)
class AuditRow:
    """One audit entry as the audit table shows it: tenant name, changed fields in words."""

    at: str
    tenant: str
    actor: str
    role: str
    action: str
    target: str
    changes: str
    ip: str


def audit_rows(central: Session, entries: list[AuditEntry]) -> list[AuditRow]:
    """Audit entries as table rows: tenant names instead of ids, changed fields in words."""
    names = tenant_names(central, (e.tenant_id for e in entries))
    return [
        AuditRow(
            at=e.created_at.strftime(_TIME),
            tenant=names.get(e.tenant_id, (f"#{e.tenant_id}",))[0] if e.tenant_id else "platform",
            actor=e.actor_email,
            role=e.actor_role.replace("_", " "),
            action=e.action,
            target=e.target,
            changes=changes_text(e.before, e.after, names.get(e.tenant_id, ("", ""))[1]),
            ip=e.ip,
        )
        for e in entries
    ]


@dataclass(frozen=True)
class LoginRow:
    """One sign-in attempt as the sign-in history tables show it."""

    at: str
    who: str
    ip: str
    agent: str
    method: str
    result: str


def login_rows(*sources: tuple[Iterable, str]) -> list[LoginRow]:
    """Sign-in events of several (events, "who" prefix) sources, newest first across them."""
    events = [(e, prefix) for found, prefix in sources for e in found]
    events.sort(key=lambda pair: (pair[0].created_at, pair[0].id or 0), reverse=True)
    return [
        LoginRow(
            at=e.created_at.strftime(_TIME),
            who=prefix + e.email,
            ip=e.ip,
            agent=e.user_agent[:60],
            method=e.method,
            result="success" if e.success else f"failed ({e.reason})",
        )
        for e, prefix in events
    ]
