"""Billing page data, the invoice PDF and the demo seed."""

import pytest
from sqlmodel import select

from ezscale.demo.seed import seed_demo
from ezscale.errors import NotFound
from ezscale.models.central import Tenant
from ezscale.models.tenant import InvoiceStatus, User
from ezscale.services.billing import views
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import tenant_db


def test_demo_customer_billing_view_and_pdf(central, clock):
    seed_demo(central)
    seed_demo(central)  # idempotent
    tenant = TenantInfo.of(central.exec(select(Tenant).where(Tenant.is_house)).one())
    with tenant_db(tenant) as session:
        user = session.exec(select(User).where(User.email == "customer@ezscale.test")).one()
        view = views.overview(session, tenant=tenant, user_id=user.id)
        assert len(view.invoices) == 1 and view.invoices[0].status == InvoiceStatus.PAID.value
        assert view.upcoming and view.upcoming[0].plan == "VPS 1"
        assert "Welcome credit" in [row.memo for row in view.credit_history]
        detail = views.detail(session, user_id=user.id, invoice_id=view.invoices[0].id)
        assert detail.row.number == "INV-000001" and detail.lines
        name, pdf = views.invoice_pdf(session, tenant=tenant, user_id=user.id, invoice_id=detail.row.id)
        assert name == "INV-000001.pdf" and pdf.startswith(b"%PDF") and b"INV-000001" in pdf
        other = User(email="x@example.test", password_hash="-", created_at=clock.now())
        session.add(other)
        session.commit()
        with pytest.raises(NotFound):
            views.detail(session, user_id=other.id, invoice_id=detail.row.id)
        with pytest.raises(NotFound):
            views.invoice_pdf(session, tenant=tenant, user_id=other.id, invoice_id=detail.row.id)
