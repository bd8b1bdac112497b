"""The first-run checklist follows what the reseller actually did."""

from sqlmodel import select

from ezscale.models.central import TenantBilling, VerificationStatus
from ezscale.services.catalogue.plans import PlanForm, list_plans, update_plan
from ezscale.services.resellers.onboarding import checklist
from ezscale.services.tenancy import domains
from ezscale.services.tenancy.branding import BrandingUpdate, update_branding
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from tests.actors import owner
from tests.factories import add_customer, connect_reseller


def _done(central, tenant: TenantInfo) -> dict[str, bool]:
    central.expire_all()
    with tenant_session(tenant) as db:
        return {step.key: step.done for step in checklist(central, db, tenant=tenant)}


def test_each_step_is_done_by_doing_it(make_tenant, central, clock, stripe_env):
    acme = TenantInfo.of(make_tenant("acme", name="Acme", connected=False))
    assert _done(central, acme) == dict.fromkeys(
        ("brand", "domain", "gateway", "payment", "plans", "customer"), False
    )

    brand = BrandingUpdate(company_name="Acme Cloud", primary_color="#E11D48", secondary_color="#0F172A")
    update_branding(central, actor=owner(acme), tenant_id=acme.id, update=brand)
    row = domains.add_domain(central, actor=owner(acme), tenant_id=acme.id, domain="shop.acme-cloud.com")
    assert _done(central, acme)["domain"] is False  # not proven yet
    connect_reseller(central, acme)  # through the simulator's onboarding page
    row.verification_status = VerificationStatus.VERIFIED
    central.add(row)
    billing = central.exec(select(TenantBilling).where(TenantBilling.tenant_id == acme.id)).one()
    billing.card_label = "Visa •••• 4242"
    central.add(billing)
    central.commit()
    with tenant_session(acme) as db:
        plan = next(p for p in list_plans(db) if p.code == "vps-2")
        update_plan(db, actor=owner(acme), tenant=acme, plan_id=plan.id, form=PlanForm(price="19.00"))
        add_customer(db, "first@example.com")
    assert _done(central, acme) == dict.fromkeys(
        ("brand", "domain", "gateway", "payment", "plans", "customer"), True
    )

    beta = TenantInfo.of(make_tenant("beta", connected=False))
    assert not any(_done(central, beta).values())  # acme's progress is acme's only
