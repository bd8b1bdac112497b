from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import select

from ezscale import clock as clock_module
from ezscale.db import central_engine, tenant_database_url
from ezscale.errors import DomainError
from ezscale.models.central import Tenant, TenantDomain, TenantStatus, VerificationStatus
from ezscale.models.tenant import Plan, Role, User
from ezscale.services.tenancy import tenants as tenancy
from ezscale.services.tenancy.tenants import (
    HostStatus,
    TenantInfo,
    create_tenant,
    resolve_host,
    suspend_tenant,
    tenant_session,
)
from ezscale.settings import get_settings
from tests.factories import purge


def _database_exists(database_name: str) -> bool:
    url = make_url(tenant_database_url(database_name))
    if url.get_backend_name() == "sqlite":
        return Path(url.database).exists()
    with central_engine().connect() as conn:
        return bool(
            conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database_name}
            ).scalar()
        )


def _add_user(tenant: Tenant, email: str) -> None:
    with tenant_session(TenantInfo.of(tenant)) as db:
        db.add(User(email=email, password_hash="x", role=Role.CUSTOMER, created_at=clock_module.now()))
        db.commit()


def _emails(tenant: Tenant) -> list[str]:
    with tenant_session(TenantInfo.of(tenant)) as db:
        return list(db.exec(select(User.email)).all())


def test_two_tenants_get_two_databases_that_do_not_see_each_other(make_tenant):
    a = make_tenant("alpha")
    b = make_tenant("beta")

    assert a.database_name != b.database_name
    assert _database_exists(a.database_name) and _database_exists(b.database_name)
    assert tenant_database_url(a.database_name) != tenant_database_url(b.database_name)

    _add_user(a, "only-in-a@example.com")
    _add_user(b, "only-in-b@example.com")

    assert _emails(a) == ["only-in-a@example.com"]
    assert _emails(b) == ["only-in-b@example.com"]


def test_new_tenant_is_seeded_with_plans_and_reseller_wholesale_prices(make_tenant):
    reseller = make_tenant("gamma", tier="pro")
    with tenant_session(TenantInfo.of(reseller)) as db:
        vps = db.exec(select(Plan).where(Plan.code == "vps-2")).one()
        kasm = db.exec(select(Plan).where(Plan.code == "kasm-dev-basic")).one()
    assert vps.price_minor == 1500
    assert vps.wholesale_price_minor == 1050  # 30 % off for the pro tier
    assert str(kasm.hourly_rate) == "0.150000"


def test_every_reseller_gets_a_platform_subdomain_alias(make_tenant, central):
    make_tenant("delta", primary_domain="shop.delta-hosting.com")
    domains = central.exec(select(TenantDomain.domain, TenantDomain.type).order_by(TenantDomain.id)).all()
    base = get_settings().platform_domain
    assert [(d, t.value) for d, t in domains] == [
        ("shop.delta-hosting.com", "primary"),
        (f"delta.{base}", "alias"),
    ]


def _mark_verified(central, tenant_id: int) -> None:
    for row in central.exec(select(TenantDomain).where(TenantDomain.tenant_id == tenant_id)):
        row.verification_status = VerificationStatus.VERIFIED
        central.add(row)
    central.commit()


def test_host_resolution_primary_alias_unknown_and_suspended(make_tenant, central):
    base = get_settings().platform_domain
    make_tenant("house", name="House", primary_domain=base, is_house=True, primary_color="#112233")
    acme = make_tenant("acme", name="Acme", primary_domain="acme-hosting.com", primary_color="#E11D48")
    assert resolve_host(central, "acme-hosting.com").status is HostStatus.UNKNOWN  # not verified yet
    _mark_verified(central, acme.id)

    primary = resolve_host(central, "ACME-hosting.com:3000")
    assert primary.status is HostStatus.OK
    assert primary.tenant.slug == "acme"
    assert primary.branding.company_name == "Acme"
    assert primary.branding.primary_color == "#E11D48"

    alias = resolve_host(central, f"acme.{base}:8080")
    assert alias.status is HostStatus.OK and alias.tenant.slug == "acme"

    house = resolve_host(central, f"{base}:3000")
    assert house.tenant.slug == "house" and house.tenant.is_house
    assert house.branding.primary_color == "#112233"

    unknown = resolve_host(central, "evil.example.org")
    assert unknown.status is HostStatus.UNKNOWN
    assert unknown.tenant is None and unknown.branding is None

    suspend_tenant(central, "acme")
    suspended = resolve_host(central, "acme-hosting.com")
    assert suspended.status is HostStatus.SUSPENDED
    assert suspended.branding.company_name == "Acme"

    tenancy.reactivate_tenant(central, "acme")
    assert resolve_host(central, "acme-hosting.com").status is HostStatus.OK


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slug": "Bad Slug"}, "Slug must be"),
        ({"slug": "-edge"}, "Slug must be"),
        ({"owner_email": "not-an-email"}, "not a valid email"),
        ({"primary_domain": "bad..domain"}, "not a valid domain"),
        ({"primary_color": "red"}, "#RRGGBB"),
        ({"tier": "platinum"}, "Unknown reseller tier"),
        ({"name": "  "}, "Name is required"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(central, kwargs, message):
    args = {"name": "Valid", "slug": "valid", "owner_email": "o@valid.test", **kwargs}
    with pytest.raises(DomainError, match=message):
        create_tenant(central, **args)
    assert central.exec(select(Tenant)).all() == []
    assert not _database_exists(f"{get_settings().tenant_db_prefix}valid")


def test_duplicates_are_refused(make_tenant, central):
    make_tenant("taken", primary_domain="taken.example.com")
    with pytest.raises(DomainError, match="already exists"):
        make_tenant("taken")
    with pytest.raises(DomainError, match="already in use"):
        make_tenant("other", primary_domain="taken.example.com")
    assert [t.slug for t in central.exec(select(Tenant)).all()] == ["taken"]


def test_a_failed_creation_rolls_back_and_drops_the_half_made_database(central, monkeypatch):
    def broken_seed(*_args, **_kwargs):
        raise RuntimeError("seed failed")

    monkeypatch.setattr(tenancy, "seed_default_plans", broken_seed)
    with pytest.raises(RuntimeError):
        create_tenant(central, name="Broken", slug="broken", owner_email="o@broken.test")
    assert central.exec(select(Tenant)).all() == []
    assert central.exec(select(TenantDomain)).all() == []
    assert not _database_exists(f"{get_settings().tenant_db_prefix}broken")


def test_house_tenant_cannot_be_suspended_or_duplicated(make_tenant, central):
    make_tenant("house", primary_domain="house.test", is_house=True)
    with pytest.raises(DomainError, match="cannot be suspended"):
        suspend_tenant(central, "house")
    with pytest.raises(DomainError, match="house tenant already exists"):
        make_tenant("house2", primary_domain="house2.test", is_house=True)


def test_expired_trials_are_suspended_once(make_tenant, central, clock):
    make_tenant("trial", trial_ends_at=clock.now() + timedelta(days=14))
    assert tenancy.expire_trials(central) == []
    clock.advance(timedelta(days=14, seconds=1))
    assert tenancy.expire_trials(central) == ["trial"]
    assert tenancy.expire_trials(central) == []
    tenant = central.exec(select(Tenant)).one()
    assert tenant.status is TenantStatus.SUSPENDED
    assert tenant.suspended_at == clock.now()


def test_fan_outs_visit_live_tenants_in_order_and_never_a_purged_one(make_tenant, central):
    for slug in ("alpha", "sleepy", "gone", "omega"):
        make_tenant(slug)
    suspend_tenant(central, "sleepy")
    purge(central, "gone")

    assert [t.slug for t in tenancy.active_tenants(central)] == ["alpha", "omega"]
    assert [t.slug for t in tenancy.active_tenants(central, include_suspended=True)] == [
        "alpha",
        "sleepy",
        "omega",
    ]
