"""Demo data: the house storefront, one reseller with its own branding, and a login of each kind.

Idempotent: running it again finds what exists and adds only what is missing.
"""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from ezscale import clock
from ezscale.demo.analytics_history import seed_demo_history
from ezscale.demo.billing import seed_billing_demo
from ezscale.demo.panels import seed_demo_panels
from ezscale.models.central import PlatformAdmin, Tenant
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.admins import DEMO_ADMIN_TOTP_SECRET, ensure_demo_admin_totp
from ezscale.services.accounts.passwords import hash_password
from ezscale.services.kasm.catalogue import seed_demo_workspaces
from ezscale.services.resellers.wholesale import run_wholesale_billing
from ezscale.services.tenancy.tenants import TenantInfo, create_tenant, tenant_session
from ezscale.settings import get_settings

HOUSE_SLUG = "ezscale"
RESELLER_CUSTOMERS = (
    ("rita@acme.test", "Rita Reseller-Customer"),
    ("sam@acme.test", "Sam Shopper"),
    ("tia@acme.test", "Tia Tester"),
)
RESELLER_SLUG = "acme"


@dataclass(frozen=True)
class DemoLogin:
    """A demo sign-in shown on the start page: area, address and credentials."""

    area: str
    url: str
    email: str
    password: str


def _ensure_tenant(session: Session, slug: str, **kwargs: Any) -> Tenant:
    tenant = session.exec(select(Tenant).where(Tenant.slug == slug)).first()
    return tenant or create_tenant(session, slug=slug, **kwargs)


def _ensure_user(tenant: Tenant, *, email: str, password: str, name: str, role: Role) -> None:
    with tenant_session(TenantInfo.of(tenant)) as db:
        if db.exec(select(User.id).where(User.email == email)).first() is None:
            now = clock.now()
            db.add(
                User(
                    email=email,
                    password_hash=hash_password(password),
                    name=name,
                    role=role,
                    email_verified_at=now,
                    created_at=now,
                )
            )
            db.commit()


def seed_demo(session: Session) -> list[DemoLogin]:
    """Create the demo tenants, users and data once (safe to re-run); returns the demo sign-ins."""
    settings = get_settings()
    base = settings.platform_domain
    port = f":{settings.port}" if settings.port not in (80, 443) else ""
    house = _ensure_tenant(
        session,
        HOUSE_SLUG,
        name=settings.platform_name,
        owner_email="owner@ezscale.test",
        primary_domain=base,
        is_house=True,
        primary_color="#2563EB",
        secondary_color="#0F172A",
    )
    reseller = _ensure_tenant(
        session,
        RESELLER_SLUG,
        name="Acme Hosting",
        owner_email="owner@acme.test",
        owner_name="Ada Acme",
        tier="pro",
        primary_color="#E11D48",
        secondary_color="#4C0519",
    )
    customer_password = "customer-demo-pass"
    owner_password = "reseller-demo-pass"
    admin_password = "admin-demo-password"
    _ensure_user(
        house,
        email="customer@ezscale.test",
        password=customer_password,
        name="Casey Customer",
        role=Role.CUSTOMER,
    )
    _ensure_user(
        reseller,
        email="owner@acme.test",
        password=owner_password,
        name="Ada Acme",
        role=Role.RESELLER_OWNER,
    )
    for email, name in RESELLER_CUSTOMERS:
        _ensure_user(reseller, email=email, password=customer_password, name=name, role=Role.CUSTOMER)
    for tenant, emails in (
        (house, ["customer@ezscale.test"]),
        (reseller, [e for e, _ in RESELLER_CUSTOMERS]),
    ):
        with tenant_session(TenantInfo.of(tenant)) as db:
            seed_demo_workspaces(db, customer_email=emails[0])
            for email in emails:
                seed_billing_demo(db, customer_email=email)
    # Acme's first wholesale invoice from EZSCALE (its platform fee for last month).
    run_wholesale_billing(on=clock.now().date(), max_workers=1)
    if (
        session.exec(select(PlatformAdmin.id).where(PlatformAdmin.email == "admin@ezscale.test")).first()
        is None
    ):
        session.add(
            PlatformAdmin(
                email="admin@ezscale.test",
                name="Platform Admin",
                password_hash=hash_password(admin_password),
                created_at=clock.now(),
            )
        )
        session.commit()
    ensure_demo_admin_totp(session, email="admin@ezscale.test")
    seed_demo_panels(session)
    seed_demo_history(session, tenant=TenantInfo.of(house))
    house_url = f"http://{base}{port}"
    reseller_url = f"http://{RESELLER_SLUG}.{base}{port}"
    return [
        DemoLogin("customer (house storefront)", house_url, "customer@ezscale.test", customer_password),
        DemoLogin(
            "reseller owner (Acme Hosting)", f"{reseller_url}/reseller", "owner@acme.test", owner_password
        ),
        DemoLogin(
            "platform admin",
            f"{house_url}/admin",
            "admin@ezscale.test",
            f"{admin_password} + TOTP (secret {DEMO_ADMIN_TOTP_SECRET}; `ezscale demo-code`)",
        ),
    ]
