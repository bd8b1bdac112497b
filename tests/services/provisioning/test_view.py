"""The client dashboard and the service page's rows: price, next due date, ownership, invoices."""

from datetime import UTC, datetime

import pytest

from ezscale.errors import NotFound
from ezscale.models.tenant import CreditKind
from ezscale.services.billing import credits, orders, subscriptions
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.provisioning import view
from ezscale.services.provisioning.module import UsageMetric
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_customer, plan, tenant_db


@pytest.fixture(autouse=True)
def _mid_month(clock):
    clock.set(datetime(2026, 11, 16, tzinfo=UTC))


def _buyer(session, email="buyer@example.test", credit=10_000):
    user = add_customer(session, email)
    ensure_profile(session, user_id=user.id, anchor_day=1)
    credits.add_entry(
        session, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=credit, currency="USD", memo="gift"
    )
    session.commit()
    return user


def test_dashboard_shows_price_next_due_open_invoices_credit_and_activity(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user = _buyer(session, credit=100)
        placed = orders.place_order(session, tenant=tenant, user_id=user.id, plan_code="vps-1")
        board = view.client_dashboard(session, tenant=tenant, user_id=user.id)

    [row] = board.services
    assert (row.plan, row.price, row.next_due) == ("VPS 1", "$6.00/mo", "2026-12-01")
    assert row.href == f"/client/services/{placed.service.id}"
    assert row.status == "pending"  # $1 of credit does not pay it: the invoice stays open
    assert [i.number for i in board.open_invoices] == [placed.invoice.number]
    assert board.balance == "$0.00"  # the dollar of credit went to the invoice
    assert any("Subscribed to VPS 1" in a.message for a in board.activity)
    assert board.workspaces == []


def test_empty_dashboard_for_a_new_customer(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user = add_customer(session)
        board = view.client_dashboard(session, tenant=tenant, user_id=user.id)
    assert (board.services, board.open_invoices, board.activity, board.balance) == ([], [], [], "$0.00")


def test_cancelling_at_period_end_shows_when_it_ends(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user = _buyer(session)
        sub, _ = subscriptions.subscribe(session, user_id=user.id, plan_id=plan(session, "vps-1").id)
        subscriptions.cancel(session, subscription=sub, at_period_end=True)
        [row] = view.service_rows(session, user_id=user.id)
    assert row.next_due == "Ends 2026-12-01"


def test_service_page_is_the_customers_own_only(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        owner, other = _buyer(session), _buyer(session, "other@example.test")
        placed = orders.place_order(session, tenant=tenant, user_id=owner.id, plan_code="vps-2")
        page = view.service_page(session, user_id=owner.id, service_id=placed.service.id)
        assert (page.plan, page.status, page.capabilities, page.power) == ("VPS 2", "active", [], [])
        assert [i.number for i in view.service_invoices(session, service=placed.service)] == [
            placed.invoice.number
        ]
        for user_id, service_id in ((other.id, placed.service.id), (owner.id, 9999)):
            with pytest.raises(NotFound, match="No such service"):
                view.service_page(session, user_id=user_id, service_id=service_id)


def test_usage_figures_read_naturally():
    rows = view.usage_rows(
        [
            UsageMetric("Traffic this month", 12_000_000_000, 1_000_000_000_000, "bytes"),
            UsageMetric("Websites", 1, 5, "websites"),
            UsageMetric("Memory", 512, 4096, "MiB"),
            UsageMetric("Network in", 120_000_000, 0, "bytes"),
        ]
    )
    assert [(r.text, r.percent) for r in rows] == [
        ("12.00 GB of 1000.00 GB", 1),
        ("1 of 5 websites", 20),
        ("512 of 4096 MiB", 12),
        ("0.12 GB (unlimited)", 0),
    ]
