"""Tenant isolation below the UI: sessions, files, domains, mail and tasks of tenant A are never
reachable through tenant B (and the other way round), on SQLite and PostgreSQL."""

import base64
from datetime import date

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from ezscale import clock
from ezscale.errors import NotFound
from ezscale.http.app import api
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.sessions import create_user_session, current_user
from ezscale.services.core.mail import list_outbox, send_mail
from ezscale.services.resellers.wholesale import bill_tenant, list_wholesale_invoices
from ezscale.services.tenancy import domains
from ezscale.services.tenancy.brand_assets import store_asset
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.settings import get_settings
from tests.actors import owner
from tests.factories import LONG_AGO, backdate

# A real 1×1 PNG: uploads are opened as images (dimensions are checked).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture
def tenants(make_tenant):
    return TenantInfo.of(make_tenant("alpha")), TenantInfo.of(make_tenant("beta"))


def _user(tenant: TenantInfo, email: str, role: Role = Role.RESELLER_OWNER) -> tuple[User, str]:
    with tenant_session(tenant) as db:
        user = User(email=email, password_hash="x", role=role, created_at=clock.now())
        db.add(user)
        db.commit()
        return user, create_user_session(db, user=user, method="password")


def test_a_session_of_one_tenant_is_worthless_on_another(tenants):
    alpha, beta = tenants
    _, token = _user(alpha, "owner@alpha.test")
    assert current_user(tenant=alpha, token=token).email == "owner@alpha.test"
    assert current_user(tenant=beta, token=token) is None
    # Same email in both tenants: still two accounts, two sessions.
    _, beta_token = _user(beta, "owner@alpha.test")
    assert current_user(tenant=beta, token=beta_token).tenant_id == beta.id
    assert current_user(tenant=alpha, token=beta_token) is None


def test_uploaded_files_are_served_only_on_their_tenants_hosts(tenants, central):
    alpha, _ = tenants
    url = store_asset(central, actor=owner(alpha), tenant=alpha, kind="logo", data=PNG)
    client = TestClient(api)
    base = get_settings().platform_domain
    assert client.get(url, headers={"Host": f"alpha.{base}"}).content == PNG
    assert client.get(url, headers={"Host": f"beta.{base}"}).status_code == 404
    assert client.get(url, headers={"Host": "unknown.example"}).status_code == 404


def test_theme_and_favicon_follow_the_host(tenants, central):
    client = TestClient(api)
    base = get_settings().platform_domain
    alpha_css = client.get("/tenant-theme.css", headers={"Host": f"alpha.{base}"}).text
    beta_favicon = client.get("/tenant-favicon.svg", headers={"Host": f"beta.{base}"}).text
    assert "--brand-primary:#3B82F6" in alpha_css
    assert ">B</text>" in beta_favicon


def test_a_reseller_cannot_touch_another_tenants_domains(tenants, central):
    alpha, beta = tenants
    theirs = domains.add_domain(central, actor=owner(beta), tenant_id=beta.id, domain="beta-shop.example.com")
    for action in (
        lambda: domains.verify_domain(
            central, actor=owner(alpha), tenant_id=alpha.id, domain_id=theirs.id, method="dns"
        ),
        lambda: domains.set_primary(central, actor=owner(alpha), tenant_id=alpha.id, domain_id=theirs.id),
        lambda: domains.remove_domain(central, actor=owner(alpha), tenant_id=alpha.id, domain_id=theirs.id),
    ):
        with pytest.raises(NotFound):
            action()
    assert [d.domain for d in domains.list_domains(central, tenant_id=alpha.id)] == [
        f"alpha.{get_settings().platform_domain}"
    ]
    assert "beta-shop.example.com" in [d.domain for d in domains.list_domains(central, tenant_id=beta.id)]


def test_mail_outboxes_are_per_tenant(tenants):
    alpha, beta = tenants
    send_mail(tenant=alpha, to="c@alpha.test", subject="Alpha only", text="hello")
    assert [m.subject for m in list_outbox(tenant=alpha)] == ["Alpha only"]
    assert list_outbox(tenant=beta) == []


def test_wholesale_invoices_are_listed_per_tenant(tenants, central):
    alpha, beta = tenants
    backdate(central, alpha, LONG_AGO)
    bill_tenant(tenant_id=alpha.id, start=date(2026, 10, 1), end=date(2026, 11, 1))
    assert len(list_wholesale_invoices(central, tenant_id=alpha.id)) == 1
    assert list_wholesale_invoices(central, tenant_id=beta.id) == []


def test_customers_live_only_in_their_own_database(tenants):
    alpha, beta = tenants
    _user(alpha, "shopper@alpha.test", Role.CUSTOMER)
    with tenant_session(beta) as db:
        assert db.exec(select(User).where(User.email == "shopper@alpha.test")).first() is None
