import gzip
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from ezscale.db import drop_database, tenant_database_url
from ezscale.errors import DomainError
from ezscale.models.central import Tenant, TenantDomain, TenantStatus
from ezscale.models.tenant import Role, User
from ezscale.services.accounts import auth
from ezscale.services.core.mail import list_outbox
from ezscale.services.resellers.lifecycle import create_reseller, purge_deleted, request_deletion
from ezscale.services.tenancy.tenants import (
    HostStatus,
    TenantInfo,
    expire_trials,
    reactivate_tenant,
    resolve_host,
    suspend_tenant,
    tenant_session,
)
from ezscale.settings import get_settings
from tests.actors import admin, audit_trail


def _create(central, **kwargs):
    args = {
        "name": "Nimbus Hosting",
        "slug": "nimbus",
        "owner_email": "Boss@Nimbus.test",
        "owner_name": "Nia",
        "tier": "pro",
        **kwargs,
    }
    return create_reseller(central, **args)


def test_create_reseller_invites_the_owner_who_sets_a_password(central, clock):
    tenant = _create(central, trial_days=14)
    assert tenant.status is TenantStatus.TRIAL
    assert tenant.trial_ends_at == clock.now() + timedelta(days=14)
    [mail] = list_outbox(tenant=None, to="boss@nimbus.test")
    assert "Nimbus Hosting" in mail.subject and "trial ends on 15 November 2026" in mail.text
    [link] = [link for link in mail.links if "reset-password" in link]
    assert link.startswith(f"http://nimbus.{get_settings().platform_domain}:")
    token = parse_qs(urlparse(link).query)["token"][0]
    with tenant_session(TenantInfo.of(tenant)) as db:
        owner = db.exec(select(User)).one()
        assert (owner.email, owner.role) == ("boss@nimbus.test", Role.RESELLER_OWNER)
        auth.reset_password(db, token=token, new_password="a-long-new-password")
        with pytest.raises(DomainError, match="invalid or has expired"):
            auth.reset_password(db, token=token, new_password="another-long-password")


def test_trial_end_suspends_and_reactivation_reopens(central, clock):
    _create(central, trial_days=7)
    clock.advance(timedelta(days=7))
    assert expire_trials(central) == ["nimbus"]
    host = f"nimbus.{get_settings().platform_domain}"
    assert resolve_host(central, host).status is HostStatus.SUSPENDED
    reactivate_tenant(central, "nimbus")
    assert resolve_host(central, host).status is HostStatus.OK


def test_bad_reseller_input_creates_nothing(central):
    with pytest.raises(DomainError):
        _create(central, owner_email="nobody")
    with pytest.raises(DomainError, match="between 0 and 90"):
        _create(central, trial_days=365)
    assert central.exec(select(Tenant)).all() == []
    assert list_outbox(tenant=None) == []


def test_delete_exports_first_closes_the_store_then_drops_after_grace(central, clock):
    tenant = _create(central)
    with tenant_session(TenantInfo.of(tenant)) as db:
        db.add(User(email="c@nimbus.test", password_hash="x", created_at=clock.now()))
        db.commit()
    suspend_tenant(central, "nimbus")
    export = request_deletion(central, slug="nimbus", grace=timedelta(days=30))
    with gzip.open(export, "rt") as f:
        dump = json.load(f)
    emails = sorted(row["email"] for row in dump["tables"]["users"])
    assert emails == ["boss@nimbus.test", "c@nimbus.test"]
    assert dump["tables"]["central.tenants"][0]["slug"] == "nimbus"
    host = f"nimbus.{get_settings().platform_domain}"
    assert resolve_host(central, host).status is HostStatus.SUSPENDED
    with pytest.raises(DomainError, match="already being deleted"):
        request_deletion(central, slug="nimbus")

    clock.advance(timedelta(days=29))
    assert purge_deleted(central) == []
    clock.advance(timedelta(days=1))
    assert purge_deleted(central) == ["nimbus"]
    assert purge_deleted(central) == []
    assert central.exec(select(Tenant.status)).one() is TenantStatus.DELETED
    assert central.exec(select(TenantDomain)).all() == []
    assert resolve_host(central, host).status is HostStatus.UNKNOWN
    assert Path(export).exists()
    with pytest.raises(DomainError, match="was deleted"):
        reactivate_tenant(central, "nimbus")


def test_deletion_can_be_cancelled_within_the_grace_period(central, clock):
    _create(central)
    request_deletion(central, slug="nimbus")
    reactivate_tenant(central, "nimbus")
    clock.advance(timedelta(days=60))
    assert purge_deleted(central) == []
    assert central.exec(select(Tenant.status)).one() is TenantStatus.ACTIVE


def test_a_database_that_cannot_be_dropped_does_not_stop_the_other_purges(make_tenant, central):
    if get_settings().is_postgres:
        pytest.skip("a SQLite file that cannot be unlinked is the failure reproduced here")
    stuck, other = make_tenant("stuck"), make_tenant("other")
    for slug in ("stuck", "other"):
        request_deletion(central, slug=slug, grace=timedelta(0))
    path = Path(make_url(tenant_database_url(stuck.database_name)).database)
    drop_database(stuck.database_name)
    path.mkdir()  # unlinking a directory fails

    assert purge_deleted(central) == ["other"]
    statuses = dict(central.exec(select(Tenant.slug, Tenant.status)).all())
    assert statuses == {"stuck": TenantStatus.DELETING, "other": TenantStatus.DELETED}
    assert not Path(make_url(tenant_database_url(other.database_name)).database).exists()


def test_lifecycle_changes_made_by_an_admin_are_audited_by_the_services(make_tenant, central, clock):
    house = make_tenant("ezscale", is_house=True)
    boss = admin(house.id)
    with pytest.raises(DomainError):
        _create(central, trial_days=91, actor=boss)
    with pytest.raises(DomainError, match="house tenant"):
        suspend_tenant(central, "ezscale", actor=boss)
    assert audit_trail("reseller.") == []
    _create(central, actor=boss, ip="192.0.2.9")
    suspend_tenant(central, "nimbus", actor=boss)
    reactivate_tenant(central, "nimbus", actor=boss)
    export = request_deletion(central, slug="nimbus", actor=boss)
    trail = audit_trail("reseller.")
    assert [(actor, action, target) for actor, action, target, _, _ in trail] == [
        ("admin@ezscale.test", f"reseller.{verb}", "tenant:nimbus")
        for verb in ("create", "suspend", "reactivate", "delete")
    ]
    assert (
        trail[0][3] == {"slug": "nimbus", "tier": "pro", "owner": "boss@nimbus.test"}
        and trail[0][4] == "192.0.2.9"
    )
    assert [after for _, _, _, after, _ in trail[1:]] == [
        {"status": "suspended"},
        {"status": "active"},
        {"export": str(export)},
    ]
