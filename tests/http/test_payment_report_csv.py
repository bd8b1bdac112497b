"""The payments report's CSV routes: a reseller's owner and billing staff download their own
database's report on their own host (support staff, customers and other hosts: 403); a platform
admin downloads every tenant's or one tenant's on the platform host."""

from datetime import UTC, datetime

from sqlmodel import select
from starlette.testclient import TestClient

from ezscale.http.app import api
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.central import PlatformAdmin
from ezscale.models.tenant import Role, User
from ezscale.services.accounts.sessions import create_admin_session, create_user_session
from ezscale.services.billing import invoices
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session


def _member(db, email: str, role: Role, clock) -> str:
    user = User(email=email, password_hash="-", role=role, created_at=clock.now())
    db.add(user)
    db.commit()
    return create_user_session(db, user=user, method="password")


def _payment(db, user_id: int, amount: int) -> None:
    invoice = invoices.create_draft(db, user_id=user_id, currency="USD")
    at = datetime(2026, 10, 20, tzinfo=UTC)
    db.add(
        Payment(
            user_id=user_id,
            invoice_id=invoice.id,
            status=PaymentStatus.SUCCEEDED,
            amount_minor=amount,
            currency="USD",
            idempotency_key=f"csv-{invoice.id}",
            created_at=at,
            updated_at=at,
            gateway="paypal",
        )
    )
    db.commit()


def _get(host: str, path: str, token: str):
    client = TestClient(api, base_url=f"http://{host}")
    return client.get(path, headers={"cookie": f"ezscale_session={token}"})


def test_reseller_and_admin_csv(central, make_tenant, clock):
    house = TenantInfo.of(make_tenant("house", is_house=True, primary_domain="localhost"))
    shop = TenantInfo.of(make_tenant("shop"))
    other = TenantInfo.of(make_tenant("other"))
    with tenant_session(shop) as db:
        owner = _member(db, "o@shop.test", Role.RESELLER_OWNER, clock)
        billing = _member(db, "b@shop.test", Role.RESELLER_BILLING, clock)
        support = _member(db, "s@shop.test", Role.RESELLER_STAFF, clock)
        customer = _member(db, "c@shop.test", Role.CUSTOMER, clock)
        _payment(db, db.exec(select(User.id)).first(), 1234)
    with tenant_session(other) as db:
        other_owner = _member(db, "o@other.test", Role.RESELLER_OWNER, clock)
        _payment(db, db.exec(select(User.id)).first(), 9999)
    admin = PlatformAdmin(
        email="admin@example.test", password_hash="-", created_at=clock.now(), totp_enabled_at=clock.now()
    )
    central.add(admin)
    central.commit()
    admin_token = create_admin_session(central, admin=admin, method="password+totp")

    path = "/reseller/payment-report.csv"
    for token in (owner, billing):
        response = _get("shop.localhost:3000", path, token)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert "2026-10,paypal,USD,1,12.34" in response.text and "99.99" not in response.text
    assert _get("shop.localhost:3000", path, support).status_code == 400  # told why, nothing shown
    assert "12.34" not in _get("shop.localhost:3000", path, support).text
    for host, token in (("shop.localhost:3000", customer), ("shop.localhost:3000", other_owner)):
        assert _get(host, path, token).status_code == 403
    assert _get("shop.localhost:3000", path + "?start=2026-13-01", owner).status_code == 400

    admin_path = "/admin/payments.csv"
    assert _get("shop.localhost:3000", admin_path, owner).status_code == 403
    everyone = _get("localhost", admin_path + "?start=2026-10-01&end=2026-10-31", admin_token)
    assert everyone.status_code == 200
    assert (
        "shop,2026-10,paypal,USD,1,12.34" in everyone.text
        and "other,2026-10,paypal,USD,1,99.99" in everyone.text
    )
    one = _get("localhost", f"{admin_path}?tenant={other.id}", admin_token)
    assert "99.99" in one.text and "12.34" not in one.text
    assert _get("localhost", admin_path + "?tenant=x", admin_token).status_code == 400
    assert house.is_house
