"""Reseller staff serve customers; only the owner manages staff, domains, branding and what is
paid to EZSCALE (issue 12, finding 8). Checked in the services and through every such handler
of the reseller area from a staff session; the menu leaves out the pages a role may not open;
a suspended reseller's brand assets are not served."""

import base64
import io
from datetime import date

import pytest
import reflex as rx
from sqlmodel import select
from starlette.testclient import TestClient

from ezscale import routes
from ezscale.errors import DomainError
from ezscale.http.app import api
from ezscale.models.central import TenantBranding, TenantDomain, WholesaleInvoice, WholesaleInvoiceStatus
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.invitations import invite_staff, set_staff_active
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.accounts.sessions import create_user_session
from ezscale.services.resellers.wholesale import bill_tenant
from ezscale.services.resellers.wholesale_payments import pay_invoice, save_card, start_card_setup
from ezscale.services.tenancy import domains
from ezscale.services.tenancy.brand_assets import store_asset
from ezscale.services.tenancy.branding import BrandingUpdate, update_branding
from ezscale.services.tenancy.tenants import TenantInfo, suspend_tenant, tenant_session
from ezscale.settings import get_settings
from ezscale.state.reseller import ResellerDomainsState
from ezscale.state.reseller_branding import BrandingEditorState
from ezscale.state.reseller_gateways import ResellerGatewaysState
from ezscale.state.reseller_overview import ResellerOverviewState
from ezscale.state.reseller_payment_report import ResellerPaymentReportState
from ezscale.state.reseller_staff import ResellerStaffState
from tests.actors import owner, staff
from tests.factories import LONG_AGO, backdate
from tests.state_harness import call, page_state

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture
def acme(make_tenant) -> TenantInfo:
    return TenantInfo.of(make_tenant("acme", name="Acme"))


def _pending_domain(central, tenant: TenantInfo) -> TenantDomain:
    return domains.add_domain(central, actor=owner(tenant), tenant_id=tenant.id, domain="shop.acme-cloud.com")


def test_services_refuse_staff_and_other_resellers_owners(acme, make_tenant, central):
    beta = TenantInfo.of(make_tenant("beta"))
    row = _pending_domain(central, acme)
    backdate(central, acme, LONG_AGO)
    invoice, _ = bill_tenant(tenant_id=acme.id, start=date(2026, 10, 1), end=date(2026, 11, 1))
    with tenant_session(acme) as db:
        member = User(
            email="sam@acme.test", password_hash="x", role=Role.RESELLER_STAFF, created_at=row.created_at
        )
        db.add(member)
        db.commit()
        member_id = member.id
    update = BrandingUpdate(company_name="Evil", primary_color="#000000", secondary_color="#000000")
    for actor in (staff(acme), owner(beta)):
        actions = [
            lambda a=actor: domains.add_domain(
                central, actor=a, tenant_id=acme.id, domain="x.acme-cloud.com"
            ),
            lambda a=actor: domains.verify_domain(
                central, actor=a, tenant_id=acme.id, domain_id=row.id, method="dns"
            ),
            lambda a=actor: domains.set_primary(central, actor=a, tenant_id=acme.id, domain_id=row.id),
            lambda a=actor: domains.remove_domain(central, actor=a, tenant_id=acme.id, domain_id=row.id),
            lambda a=actor: update_branding(central, actor=a, tenant_id=acme.id, update=update),
            lambda a=actor: store_asset(central, actor=a, tenant=acme, kind="logo", data=PNG),
            lambda a=actor: start_card_setup(central, actor=a, tenant_id=acme.id),
            lambda a=actor: save_card(central, actor=a, tenant_id=acme.id, setup_intent_id="seti_1"),
            lambda a=actor: pay_invoice(central, actor=a, invoice_id=invoice.id, tenant_id=acme.id),
        ]
        for action in actions:
            with pytest.raises(DomainError, match="Only the reseller's owner"):
                action()
        with tenant_session(acme) as db:
            with pytest.raises(DomainError, match="Only the reseller's owner"):
                invite_staff(db, actor=actor, tenant=acme, email="new@acme.test", name="")
            with pytest.raises(DomainError, match="Only the reseller's owner"):
                set_staff_active(db, actor=actor, tenant=acme, user_id=member_id, active=False)
    central.expire_all()
    assert [d.domain for d in domains.list_domains(central, tenant_id=acme.id)] == [
        "acme.localhost",
        "shop.acme-cloud.com",
    ]
    branding = central.exec(select(TenantBranding).where(TenantBranding.tenant_id == acme.id)).one()
    assert branding.company_name == "Acme" and branding.logo_url is None
    assert central.get(WholesaleInvoice, invoice.id).status is WholesaleInvoiceStatus.OPEN
    with tenant_session(acme) as db:
        assert db.get(User, member_id).is_active
        assert db.exec(select(User).where(User.email == "new@acme.test")).first() is None


def test_every_owner_handler_refuses_a_staff_session(acme, central, clock):
    row = _pending_domain(central, acme)
    backdate(central, acme, LONG_AGO)
    invoice, _ = bill_tenant(tenant_id=acme.id, start=date(2026, 10, 1), end=date(2026, 11, 1))
    with tenant_session(acme) as db:
        member = User(
            email="sam@acme.test",
            password_hash=hash_password("staff password"),
            role=Role.RESELLER_STAFF,
            created_at=clock.now(),
            email_verified_at=clock.now(),
        )
        other = User(
            email="kim@acme.test", password_hash="x", role=Role.RESELLER_STAFF, created_at=clock.now()
        )
        db.add_all([member, other])
        db.commit()
        other_id = other.id
        token = create_user_session(db, user=member, method="password")
    upload = [rx.UploadFile(file=io.BytesIO(PNG), path=None)]
    calls = [
        (ResellerDomainsState, "add", (), {"new_domain": "x.acme-cloud.com"}),
        (ResellerDomainsState, "verify", (str(row.id), "dns"), {}),
        (ResellerDomainsState, "make_primary", (str(row.id),), {}),
        (ResellerDomainsState, "remove", (str(row.id),), {}),
        (ResellerStaffState, "invite", (), {"invite_email": "new@acme.test"}),
        (ResellerStaffState, "set_active", (str(other_id), False), {}),
        (BrandingEditorState, "save", (), {"company_name": "Evil", "custom_css": ".x{color:red}"}),
        (BrandingEditorState, "upload_logo", (upload,), {}),
        (BrandingEditorState, "upload_favicon", (upload,), {}),
        (ResellerOverviewState, "start_add_card", (), {}),
        (ResellerOverviewState, "card_confirmed", ({"setup_intent": "seti_1"},), {}),
        (ResellerOverviewState, "pay", (str(invoice.id),), {}),
    ]
    for cls, name, args, fields in calls:
        state = page_state(
            cls, host=f"acme.{get_settings().platform_domain}:3000", token=token, path="/reseller"
        )
        for field, value in fields.items():
            setattr(state, field, value)
        call(state, name, *args)
        assert state.role == "reseller_staff", f"{cls.__name__}.{name}"
        assert "Only the reseller's owner" in state.error, f"{cls.__name__}.{name}: {state.error!r}"
    central.expire_all()
    assert len(domains.list_domains(central, tenant_id=acme.id)) == 2
    assert central.get(TenantDomain, row.id).last_checked_at is None
    branding = central.exec(select(TenantBranding).where(TenantBranding.tenant_id == acme.id)).one()
    assert branding.company_name == "Acme" and not branding.logo_url and not branding.favicon_url
    assert central.get(WholesaleInvoice, invoice.id).status is WholesaleInvoiceStatus.OPEN
    with tenant_session(acme) as db:
        assert db.get(User, other_id).is_active
        assert db.exec(select(User).where(User.email == "new@acme.test")).first() is None


@pytest.mark.parametrize("role", [Role.RESELLER_OWNER, Role.RESELLER_BILLING, Role.RESELLER_STAFF])
def test_the_menu_leaves_out_exactly_the_pages_the_role_may_not_open(acme, clock, role):
    with tenant_session(acme) as db:
        user = User(email=f"{role.value}@acme.test", password_hash="x", role=role, created_at=clock.now())
        db.add(user)
        db.commit()
        token = create_user_session(db, user=user, method="password")
    host = f"acme.{get_settings().platform_domain}:3000"
    report = page_state(
        ResellerPaymentReportState, host=host, token=token, path=routes.RESELLER_PAYMENT_REPORT
    )
    call(report, "load")
    gateways = page_state(ResellerGatewaysState, host=host, token=token, path=routes.RESELLER_GATEWAYS)
    call(gateways, "load")
    refused = {
        routes.RESELLER_PAYMENT_REPORT: "Only the owner and billing staff" in report.error,
        routes.RESELLER_GATEWAYS: gateways.denied,
    }
    overview = page_state(ResellerOverviewState, host=host, token=token, path=routes.RESELLER)
    call(overview, "load")
    assert overview.role == role.value
    assert set(overview.closed) == {route for route, no in refused.items() if no}
    expected = {
        Role.RESELLER_OWNER: set(),
        Role.RESELLER_BILLING: {routes.RESELLER_GATEWAYS},
        Role.RESELLER_STAFF: {routes.RESELLER_GATEWAYS, routes.RESELLER_PAYMENT_REPORT},  # support
    }
    assert set(overview.closed) == expected[role]


def test_a_suspended_resellers_brand_assets_are_not_served(acme, central):
    logo = store_asset(central, actor=owner(acme), tenant=acme, kind="logo", data=PNG)
    favicon = store_asset(central, actor=owner(acme), tenant=acme, kind="favicon", data=PNG)
    update = BrandingUpdate(
        company_name="Acme", primary_color="#112233", secondary_color="#445566", custom_css=".x{color:red}"
    )
    update_branding(central, actor=owner(acme), tenant_id=acme.id, update=update)
    client = TestClient(api, base_url=f"http://acme.{get_settings().platform_domain}", follow_redirects=False)
    paths = (logo, favicon, routes.THEME_CSS, routes.FAVICON)
    assert [client.get(path).status_code for path in paths] == [200, 200, 200, 307]
    assert ".x{color:red}" in client.get(routes.THEME_CSS).text
    suspend_tenant(central, "acme")
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "color:red" not in response.text and response.content != PNG
