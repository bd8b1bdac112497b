"""The admin customer record and audit trail as shown: amounts as money, each billing fact once,
a workspace's own state, only the service actions its state allows, readable audit changes,
tenant names, and sign-ins newest first across sources."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from ezscale.models.auth import AuditEntry
from ezscale.models.billing import BillingEvent
from ezscale.models.kasm import KasmWorkspace, WorkspaceStatus
from ezscale.models.tenant import ServiceStatus, User
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.billing import payments
from ezscale.services.core.audit_view import audit_rows, changes_text, find_tenant_id, login_rows
from ezscale.services.customers import actions
from ezscale.services.customers.directory import customer_record
from ezscale.services.customers.view import ProfileView, record_view
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session
from ezscale.state.admin_customer import AdminCustomerState
from tests.factories import add_card, add_customer, admin_token
from tests.services.analytics.dataset import build
from tests.state_harness import call, page_state

ADMIN = AuthUser(id=1, tenant_id=None, email="admin@example.test", name="Admin", role="platform_admin")


def test_card_payment_and_refund_show_as_money_once_each(central, make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("money"))
    with tenant_session(tenant) as db:
        user = add_customer(db)
        add_card(db, tenant, user.id)
        payment = payments.top_up(db, tenant=tenant, user_id=user.id, amount_minor=548)
        user_id, payment_id = user.id, payment.id
        events = db.exec(select(BillingEvent.message).where(BillingEvent.user_id == user_id)).all()
    assert "Card payment of $5.48 succeeded" in events
    clock.advance(timedelta(minutes=5))
    actions.refund(
        actor=ADMIN,
        tenant=tenant,
        user_id=user_id,
        payment_id=payment_id,
        amount_minor=100,
        reason="asked",
        request_key="refund-form-0001",
    )
    with tenant_session(tenant) as db:
        messages = db.exec(select(BillingEvent.message).where(BillingEvent.kind == "refund")).all()
    assert messages == ["Refunded $1.00 of a card payment: asked"]

    texts = [
        item.text for item in record_view(customer_record(central, tenant=tenant, user_id=user_id)).timeline
    ]
    assert not any("548" in t or "USD" in t for t in texts), texts
    assert [t for t in texts if "$5.48" in t] == ["Card payment succeeded: $5.48"]  # not the event again
    assert "Refunded $1.00 of a card payment: asked" in texts
    [admin] = [t for t in texts if t.startswith("admin@example.test: customer.refund")]
    assert "amount: $1.00" in admin and "{" not in admin and "minor" not in admin


def test_a_stopped_workspace_shows_stopped_and_actions_follow_the_state(central, make_tenant, clock):
    house, _ = build(central, make_tenant)
    with tenant_session(house) as db:
        ws = db.exec(select(KasmWorkspace)).first()
        ws.status = WorkspaceStatus.STOPPED
        db.add(ws)
        db.commit()
        user_id, service_id = ws.user_id, ws.service_id
    record = customer_record(central, tenant=house, user_id=user_id)
    [row] = [s for s in record_view(record).services if s.id == service_id]
    assert row.status == "stopped"
    assert row.actions.split() == ["suspend", "terminate"]

    actions.change_service(
        actor=ADMIN, tenant=house, user_id=user_id, service_id=service_id, action="suspend"
    )
    record = customer_record(central, tenant=house, user_id=user_id)
    [row] = [s for s in record_view(record).services if s.id == service_id]
    assert (row.status, row.actions.split()) == ("suspended", ["unsuspend", "terminate"])
    assert actions.allowed_actions(ServiceStatus.TERMINATED) == []
    assert actions.allowed_actions(ServiceStatus.PENDING) == ["terminate"]


def test_audit_rows_name_tenants_and_say_what_changed(central, make_tenant):
    acme = make_tenant("acme", name="Acme Hosting")
    entries = [
        AuditEntry(
            tenant_id=acme.id,
            actor_email="owner@acme.test",
            actor_role="reseller_owner",
            action="plan.update",
            target="plan:3",
            before=json.dumps({"price": "5.00", "active": True}),
            after=json.dumps({"price": "6.00", "active": False, "name": "Pro"}),
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
        ),
        AuditEntry(
            actor_email="root@x.test",
            actor_role="platform_admin",
            action="x",
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
        ),
        AuditEntry(
            tenant_id=99999,
            actor_email="a@b.test",
            actor_role="platform_admin",
            action="y",
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
        ),
    ]
    rows = audit_rows(central, entries)
    assert [r.tenant for r in rows] == ["Acme Hosting", "platform", "#99999"]
    assert rows[0].changes == "price: 5.00 → 6.00; active: yes → no; name: Pro"
    assert rows[1].changes == ""
    assert changes_text("", '{"from": "active", "to": "suspended"}') == "from: active; to: suspended"
    assert changes_text('{"note": "x"}', "") == "note: x → removed"
    assert changes_text("", "not json") == "value: not json"
    assert changes_text('{"price_minor": 500}', '{"price_minor": 650}', "EUR") == "price: €5.00 → €6.50"
    assert changes_text("", '{"price_minor": 650}') == "price minor: 650"  # no currency known


@dataclass
class _Login:
    id: int
    created_at: datetime
    email: str
    ip: str = ""
    user_agent: str = ""
    method: str = "password"
    success: bool = True
    reason: str = ""


def test_sign_ins_from_several_sources_are_newest_first():
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    admins = [_Login(2, t0 + timedelta(hours=1), "admin@x"), _Login(1, t0, "admin@x")]
    customers = [_Login(7, t0 + timedelta(hours=2), "c@x"), _Login(6, t0 + timedelta(minutes=30), "d@x")]
    rows = login_rows((admins, ""), (customers, "@shop: "))
    assert [r.who for r in rows] == ["@shop: c@x", "admin@x", "@shop: d@x", "admin@x"]
    assert [r.at for r in rows] == sorted((r.at for r in rows), reverse=True)


def test_audit_filter_finds_a_tenant_by_name_slug_or_id(central, make_tenant):
    acme = make_tenant("acme", name="Acme Hosting")
    assert find_tenant_id(central, "") is None
    assert find_tenant_id(central, " acme ") == acme.id
    assert find_tenant_id(central, "ACME hosting") == acme.id
    assert find_tenant_id(central, str(acme.id)) == acme.id
    assert find_tenant_id(central, "nobody") == 0  # matches no audit row, rather than all of them


def test_the_admin_record_page_shows_a_bad_tenant_or_customer_as_no_such_customer(
    central, make_tenant, clock
):
    house, _ = build(central, make_tenant)
    token = admin_token(central)
    with tenant_session(house) as db:
        bob = db.exec(select(User).where(User.email == "bob@example.test")).one()

    def opened(query: str) -> AdminCustomerState:
        page = page_state(
            AdminCustomerState, host="localhost:3000", token=token, path="/admin/customer", query=query
        )
        call(page, "load")
        return page

    shown = opened(f"tenant={house.id}&user={bob.id}")
    assert (shown.profile.email, shown.error) == ("bob@example.test", "")
    for query in ("tenant=abc&user=1", f"tenant={house.id}&user=999999", f"tenant={house.id}&user=x"):
        page = opened(query)
        assert (page.profile, page.services, page.error) == (ProfileView(), [], "No such customer."), query
