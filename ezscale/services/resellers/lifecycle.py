"""Reseller lifecycle run by platform admins: create (database, plans, branding, owner invited),
suspend, reactivate, and delete (exported first, database dropped after a grace period)."""

import gzip
import json
import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from ezscale import clock
from ezscale.db import drop_database, engine_for, tenant_database_url
from ezscale.errors import DomainError
from ezscale.models.central import Tenant, TenantBranding, TenantDomain, TenantStatus
from ezscale.models.tenant import Role, TenantModel
from ezscale.services.accounts.auth import normalise_email
from ezscale.services.accounts.invitations import invite_account
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.core.audit import record_audit
from ezscale.services.tenancy.brand_assets import tenant_asset_dir
from ezscale.services.tenancy.tenants import (
    TenantInfo,
    create_tenant,
    get_tenant,
    site_url,
    tenant_session,
)
from ezscale.settings import get_settings

DEFAULT_GRACE = timedelta(days=30)

log = logging.getLogger(__name__)


def create_reseller(
    central: Session,
    *,
    name: str,
    slug: str,
    owner_email: str,
    owner_name: str = "",
    domain: str | None = None,
    tier: str = "basic",
    trial_days: int = 0,
    actor: AuthUser | None = None,
    ip: str = "",
) -> Tenant:
    """Create the tenant, then its owner account, and mail the owner a link to set a password.

    Audited when an `actor` (the admin) made it."""
    if not 0 <= trial_days <= 90:
        raise DomainError("A trial lasts between 0 and 90 days.")
    email = normalise_email(owner_email)
    trial_ends = clock.now() + timedelta(days=trial_days) if trial_days else None
    tenant = create_tenant(
        central,
        name=name,
        slug=slug,
        owner_email=email,
        owner_name=owner_name,
        primary_domain=domain or None,
        tier=tier,
        trial_ends_at=trial_ends,
    )
    # Custom primary domains wait for verification; invite on the platform subdomain.
    host = site_url(f"{slug}.{get_settings().platform_domain}")
    info = TenantInfo.of(tenant)
    with tenant_session(info) as db:
        invite_account(
            db,
            email=email,
            name=owner_name,
            role=Role.RESELLER_OWNER,
            tenant=info,
            subject=f"Your {tenant.name} storefront on {get_settings().platform_name} is ready",
            intro=f"{tenant.name} is set up at {host}."
            + (f" Your trial ends on {trial_ends:%d %B %Y}." if trial_ends else ""),
            sender=None,
        )
    if actor is not None:
        after = {"slug": tenant.slug, "tier": tier, "owner": tenant.owner_email}
        record_audit(
            session=central,
            actor=actor,
            action="reseller.create",
            target=f"tenant:{tenant.slug}",
            after=after,
            ip=ip,
        )
        central.commit()
    return tenant


def export_tenant(central: Session, *, slug: str) -> Path:
    """Write every row of the tenant (its database and its central rows) to a gzipped JSON file.

    Rows are read as stored, so encrypted secrets stay encrypted in the export.
    """
    tenant = get_tenant(central, slug)
    engine = engine_for(tenant_database_url(tenant.database_name))
    dump: dict[str, list[dict]] = {}
    with engine.connect() as conn:
        for table in TenantModel.metadata.sorted_tables:
            rows = conn.execute(sa.text(f'SELECT * FROM "{table.name}"')).mappings()
            dump[table.name] = [dict(row) for row in rows]
    owned: list[tuple[type[SQLModel], Any]] = [
        (Tenant, Tenant.id),
        (TenantDomain, TenantDomain.tenant_id),
        (TenantBranding, TenantBranding.tenant_id),
    ]
    for model, column in owned:
        dump[f"central.{model.__tablename__}"] = [
            row.model_dump() for row in central.exec(select(model).where(column == tenant.id))
        ]
    folder = get_settings().data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}-{clock.now():%Y%m%dT%H%M%SZ}.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        json.dump({"tenant": slug, "exported_at": clock.now().isoformat(), "tables": dump}, out, default=str)
    return path


def request_deletion(
    central: Session,
    *,
    slug: str,
    grace: timedelta = DEFAULT_GRACE,
    actor: AuthUser | None = None,
    ip: str = "",
) -> Path:
    """Export, close the storefront, and schedule the database drop after `grace`; audited when
    an `actor` asked for it."""
    tenant = get_tenant(central, slug)
    if tenant.is_house:
        raise DomainError("The house tenant cannot be deleted.")
    if tenant.status in (TenantStatus.DELETING, TenantStatus.DELETED):
        raise DomainError(f"{tenant.name} is already being deleted.")
    path = export_tenant(central, slug=slug)
    tenant.status = TenantStatus.DELETING
    tenant.delete_after = clock.now() + grace
    central.add(tenant)
    if actor is not None:
        record_audit(
            session=central,
            actor=actor,
            action="reseller.delete",
            target=f"tenant:{slug}",
            after={"export": str(path)},
            ip=ip,
        )
    central.commit()
    return path


def purge_deleted(central: Session, *, now: datetime | None = None) -> list[str]:
    """Drop the databases whose grace period is over; keep a tombstone row for billing history."""
    now = now or clock.now()
    due = central.exec(
        select(Tenant).where(col(Tenant.status) == TenantStatus.DELETING, col(Tenant.delete_after) <= now)
    ).all()
    purged = []
    for tenant in due:
        try:
            drop_database(tenant.database_name)
        except Exception:  # one database that cannot be dropped must not stop the others
            log.exception("dropping the database of %s failed; it stays due", tenant.slug)
            continue
        shutil.rmtree(tenant_asset_dir(tenant.slug), ignore_errors=True)
        for model in (TenantDomain, TenantBranding):
            for row in central.exec(select(model).where(model.tenant_id == tenant.id)):
                central.delete(row)
        tenant.status = TenantStatus.DELETED
        central.add(tenant)
        central.commit()
        purged.append(tenant.slug)
    return purged
