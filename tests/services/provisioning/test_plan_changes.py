"""A customer's plan change (quote = what is charged, to the second) and cancellation."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlmodel import select

from ezscale import clock as ezclock
from ezscale.errors import DomainError, NotFound
from ezscale.models.provisioning import JobAction, ProvisioningJob, ServiceHandle
from ezscale.models.tenant import CreditEntry, CreditKind, Invoice, InvoiceStatus, ServiceStatus, Subscription
from ezscale.services.accounts.sessions import AuthRole, AuthUser
from ezscale.services.billing import credits, orders, payments, subscriptions
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.core.audit import operator
from ezscale.services.provisioning import panels, plan_changes
from ezscale.services.provisioning.module import Capability
from ezscale.services.provisioning.plan_change_view import PlanChoiceRow, plan_change_row, plan_choice_rows
from ezscale.services.tenancy.tenants import TenantInfo
from tests.actors import audit_trail
from tests.factories import add_card, add_customer, plan, tenant_db
from tests.services.billing.support import StripeProxy, stripe_proxy


@pytest.fixture(autouse=True)
def _on_the_first(clock):
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))  # orders start a whole period: Dec 1 – Jan 1


def _actor(tenant: TenantInfo, user) -> AuthUser:
    return AuthUser(id=user.id, tenant_id=tenant.id, email=user.email, name=user.name, role=AuthRole.CUSTOMER)


def _ordered(session, tenant, *, credit: int, email="buyer@example.test", code="vps-1"):
    user = add_customer(session, email)
    ensure_profile(session, user_id=user.id, anchor_day=1)
    credits.add_entry(
        session, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=credit, currency="USD", memo="gift"
    )
    session.commit()
    placed = orders.place_order(session, tenant=tenant, user_id=user.id, plan_code=code)
    return user, placed.service


def _on_a_panel(session, service) -> None:
    """The service as delivered on a panel (its handle stored)."""
    handle = ServiceHandle(
        service_id=service.id,
        panel_id=1,
        module="virtfusion",
        external_id="7",
        extra='{"plan_code": "vps-1"}',  # the package the panel has
        updated_at=ezclock.now(),
    )
    session.add(handle)
    session.commit()


def test_upgrade_charges_the_quote_from_credit(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _ordered(session, tenant, credit=10_000)
        _on_a_panel(session, service)
        clock.set(datetime(2026, 12, 16, 12, tzinfo=UTC))  # 15.5 of 31 days left
        vps2 = plan(session, "vps-2")
        offer = plan_changes.quote(session, user_id=user.id, service_id=service.id, plan_id=vps2.id)
        # Half the month is left: $3.00 back on VPS 1, $7.50 for VPS 2.
        assert (offer.credit_minor, offer.charge_minor, offer.net_minor) == (300, 750, 450)
        shown = plan_change_row(offer)
        assert (shown.plan_id, shown.outcome) == (vps2.id, "To pay now: $4.50 plus tax")
        assert (shown.credit, shown.charge) == (
            "Unused time on VPS 1: −$3.00",
            "Remaining time on VPS 2: $7.50",
        )
        before = credits.balance_minor(session, user_id=user.id, currency="USD")

        said = plan_changes.change_plan(
            session,
            tenant=tenant,
            actor=_actor(tenant, user),
            service_id=service.id,
            plan_id=vps2.id,
            ip="1.2.3.4",
        )

        assert said == "Plan changed to VPS 2: your server is being moved to it."
        invoice = session.exec(select(Invoice).where(Invoice.billing_key.startswith("plan-change:"))).one()
        assert (invoice.subtotal_minor, invoice.status) == (offer.net_minor, InvoiceStatus.PAID)
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == before - invoice.total_minor
        job = session.exec(select(ProvisioningJob).where(ProvisioningJob.service_id == service.id)).one()
        assert (job.action, job.target_plan_code) == (JobAction.CHANGE_PACKAGE, "vps-2")
        session.refresh(service)
        assert service.label == "VPS 2"  # named after its plan, the service follows the change
    [(actor, _, target, after, ip)] = audit_trail("service.plan_change")
    assert (actor, target, after["plan"], ip) == (
        "buyer@example.test",
        f"service:{service.id}",
        "VPS 2",
        "1.2.3.4",
    )


def test_a_first_partial_period_is_credited_at_the_rate_it_was_paid(make_tenant, clock):
    """Ordered mid-period, upgraded, then downgraded, each to the second. The first period
    (Dec 16 12:00 – Jan 1) was billed at the whole month's rate (31 days, 2 678 400 s), so every
    credit and charge uses that rate, never the shorter first period's (which credited the
    unused time of VPS 1 at twice its price)."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        clock.set(datetime(2026, 12, 16, 12, tzinfo=UTC))
        user, service = _ordered(session, tenant, credit=10_000)
        _on_a_panel(session, service)
        order = session.exec(select(Invoice).where(Invoice.billing_key.startswith("order:"))).one()
        assert order.subtotal_minor == 300  # $6.00 × 15.5 / 31 days
        vps1, vps2, actor = plan(session, "vps-1"), plan(session, "vps-2"), _actor(tenant, user)

        # Upgrade on Dec 20 06:30:15: 11 d 17:29:45 = 1 013 385 s of 2 678 400 s left.
        clock.set(datetime(2026, 12, 20, 6, 30, 15, tzinfo=UTC))
        up = plan_changes.quote(session, user_id=user.id, service_id=service.id, plan_id=vps2.id)
        # VPS 1: 600 × 1013385 / 2678400 = 227.01 → 227; VPS 2: 1500 × … = 567.53 → 568.
        assert (up.credit_minor, up.charge_minor, up.net_minor) == (227, 568, 341)
        before = credits.balance_minor(session, user_id=user.id, currency="USD")
        plan_changes.change_plan(session, tenant=tenant, actor=actor, service_id=service.id, plan_id=vps2.id)
        invoice = session.exec(select(Invoice).where(Invoice.billing_key.startswith("plan-change:"))).one()
        assert (invoice.subtotal_minor, invoice.status) == (341, InvoiceStatus.PAID)
        paid = invoice.total_minor
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == before - paid

        # Downgrade on Dec 27 18:00: 4 d 6 h = 367 200 s left.
        clock.set(datetime(2026, 12, 27, 18, tzinfo=UTC))
        down = plan_changes.quote(session, user_id=user.id, service_id=service.id, plan_id=vps1.id)
        # VPS 2: 1500 × 367200 / 2678400 = 205.65 → 206 back; VPS 1: 600 × … = 82.26 → 82.
        assert (down.credit_minor, down.charge_minor, down.net_minor) == (206, 82, -124)
        assert plan_change_row(down).outcome == "Added to your account credit: $1.24"
        said = plan_changes.change_plan(
            session, tenant=tenant, actor=actor, service_id=service.id, plan_id=vps1.id
        )
        assert said == "Plan changed to VPS 1: your server is being moved to it."
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == before - paid + 124
        changes = session.exec(select(Invoice).where(Invoice.billing_key.startswith("plan-change:")))
        assert len(changes.all()) == 1  # the downgrade went to credit, not to an invoice


def test_no_credit_for_time_on_a_plan_change_not_yet_paid(make_tenant, clock):
    """An upgrade left unpaid, then a downgrade: refused (the time on VPS 2 was never paid for,
    so crediting it would hand out money); nothing changes until the invoice is paid."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _ordered(session, tenant, credit=600)  # exactly the order
        clock.set(datetime(2026, 12, 16, 12, tzinfo=UTC))
        vps1, vps2 = plan(session, "vps-1"), plan(session, "vps-2")
        sub = session.exec(select(Subscription)).one()
        unpaid = subscriptions.change_plan(session, subscription=sub, plan_id=vps2.id)
        assert unpaid.status is InvoiceStatus.OPEN and unpaid.subtotal_minor == 750 - 300
        clock.advance(payments.ATTEMPT_LEASE)  # long after the change: left unpaid, not in progress
        with pytest.raises(DomainError, match=f"Pay invoice {unpaid.number} for the last plan change first"):
            plan_changes.change_plan(
                session, tenant=tenant, actor=_actor(tenant, user), service_id=service.id, plan_id=vps1.id
            )
        session.refresh(sub)
        assert sub.plan_id == vps2.id
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 0


def test_upgrade_without_credit_or_card_changes_nothing(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _ordered(session, tenant, credit=700)  # pays the order, not the upgrade
        vps2 = plan(session, "vps-2")
        with pytest.raises(DomainError, match="Add a card or account credit"):
            plan_changes.change_plan(
                session, tenant=tenant, actor=_actor(tenant, user), service_id=service.id, plan_id=vps2.id
            )
        sub = session.exec(select(Subscription)).one()
        assert sub.plan_id == plan(session, "vps-1").id
    assert audit_trail("service.plan_change") == []


def test_another_customers_service_or_a_foreign_plan_is_not_found(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _ordered(session, tenant, credit=10_000)
        other, _ = _ordered(session, tenant, credit=10_000, email="other@example.test")
        vps2, game = plan(session, "vps-2"), plan(session, "game-minecraft")
        with pytest.raises(NotFound, match="No such service"):
            plan_changes.quote(session, user_id=other.id, service_id=service.id, plan_id=vps2.id)
        with pytest.raises(NotFound, match="No such plan"):
            plan_changes.quote(session, user_id=user.id, service_id=service.id, plan_id=game.id)
        options = plan_changes.plan_options(session, user_id=user.id, service_id=service.id)
        assert plan_choice_rows(options) == [PlanChoiceRow(vps2.id, "VPS 2 · $15.00/mo")]


def test_cancel_at_period_end_then_now(make_tenant):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _ordered(session, tenant, credit=10_000)
        _on_a_panel(session, service)
        actor = _actor(tenant, user)
        said = plan_changes.cancel(session, actor=actor, service_id=service.id, immediately=False)
        assert said == "Cancelled: the service runs until 2027-01-01 and is not renewed."
        with pytest.raises(DomainError, match="already cancels"):
            plan_changes.cancel(session, actor=actor, service_id=service.id, immediately=False)
        said = plan_changes.cancel(session, actor=actor, service_id=service.id, immediately=True)
        assert said == "Cancelled: the service is being removed."
        session.refresh(service)
        assert service.status is ServiceStatus.TERMINATED
        [job] = session.exec(select(ProvisioningJob).where(ProvisioningJob.service_id == service.id))
        assert job.action is JobAction.TERMINATE  # the panel follows
        with pytest.raises(DomainError, match="no running subscription"):
            plan_changes.cancel(session, actor=actor, service_id=service.id, immediately=True)
    assert [a["when"] for *_, a, _ in audit_trail("service.cancel")] == ["period end 2027-01-01", "now"]


def test_no_plan_change_the_panel_cannot_make(make_tenant, central, monkeypatch):
    """Plans mapped to another panel are not offered (its module could not move the server
    there); a module without package changes offers none, and a quote for one is refused."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _ordered(session, tenant, credit=10_000)  # bought before any panel was set up
        vf = panels.create_panel(
            central,
            module="virtfusion",
            label="VF",
            base_url="http://127.0.0.1:9",
            credentials={"token": "t"},
            actor=operator("test"),
        )
        other = panels.create_panel(
            central,
            module="virtfusion",
            label="VF 2",
            base_url="http://127.0.0.1:9",
            credentials={"token": "t"},
            actor=operator("test"),
        )
        panels.set_mapping(central, plan_code="vps-1", panel_id=vf.id, package="1", actor=operator("test"))
        panels.set_mapping(central, plan_code="vps-2", panel_id=other.id, package="2", actor=operator("test"))
        _on_a_panel(session, service)  # on panel 1 (VF)
        assert vf.id == 1
        vps2 = plan(session, "vps-2")
        assert plan_changes.plan_options(session, user_id=user.id, service_id=service.id) == []
        panels.set_mapping(central, plan_code="vps-2", panel_id=vf.id, package="2", actor=operator("test"))
        options = plan_changes.plan_options(session, user_id=user.id, service_id=service.id)
        assert plan_choice_rows(options) == [PlanChoiceRow(vps2.id, "VPS 2 · $15.00/mo")]

        class Fixed:  # a module that cannot change packages (the page then has no plan change)
            capabilities = frozenset({Capability.SSO})

        monkeypatch.setattr(plan_changes, "module_class", lambda name: Fixed)
        assert plan_changes.plan_options(session, user_id=user.id, service_id=service.id) == []
        with pytest.raises(NotFound, match="No such plan for this service"):
            plan_changes.quote(session, user_id=user.id, service_id=service.id, plan_id=vps2.id)


def test_a_change_from_a_stale_copy_does_not_credit_twice(make_tenant, clock):
    """Two requests read the subscription on VPS 2; one downgrades to VPS 1 and commits. The
    other, holding its stale copy, asks for the same downgrade: it is refused (the plan is
    already VPS 1), so the unused time on VPS 2 is credited once, not twice."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as first, tenant_db(tenant) as second:
        user, _ = _ordered(first, tenant, credit=10_000, code="vps-2")
        clock.set(datetime(2026, 12, 16, 12, tzinfo=UTC))  # half the month left
        vps1 = plan(first, "vps-1")
        stale = second.exec(select(Subscription)).one()  # read before the first change commits
        assert (
            subscriptions.change_plan(
                first, subscription=first.exec(select(Subscription)).one(), plan_id=vps1.id
            )
            is None
        )
        credited = credits.balance_minor(first, user_id=user.id, currency="USD")
        with pytest.raises(DomainError, match="already the current plan"):
            subscriptions.change_plan(second, subscription=stale, plan_id=vps1.id)
        second.rollback()
        assert credits.balance_minor(second, user_id=user.id, currency="USD") == credited
        entries = second.exec(select(CreditEntry).where(CreditEntry.memo.startswith("Proration credit")))
        assert [e.amount_minor for e in entries] == [750 - 300]  # VPS 2's unused half, less VPS 1's


class _HoldsCharges(StripeProxy):
    """A loopback proxy to the Stripe simulator that holds each card charge until `go` is set:
    meanwhile the plan change that sent it is in progress."""

    charging = threading.Event()
    go = threading.Event()

    def forward(self) -> None:
        if self.command == "POST" and self.path == "/v1/payment_intents":
            self.charging.set()
            self.go.wait(timeout=60)
        super().forward()


def test_a_second_plan_change_while_the_first_is_being_paid_is_refused_plainly(
    make_tenant, clock, stripe_env, monkeypatch
):
    """An upgrade paid by card; while the card is being charged (held at the proxy, in another
    thread), the customer asks again from a second tab, for the same plan or back: told the
    change is in progress, and nothing changes. The first change then completes, once."""
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user, service = _ordered(session, tenant, credit=600)  # exactly the order: the card pays
        add_card(session, tenant, user.id)
        clock.set(datetime(2026, 12, 16, 12, tzinfo=UTC))
        vps1, vps2 = plan(session, "vps-1").id, plan(session, "vps-2").id
    change = partial(
        plan_changes.change_plan, tenant=tenant, actor=_actor(tenant, user), service_id=service.id
    )

    def first() -> str:
        with tenant_db(tenant) as db:
            return change(db, plan_id=vps2)

    def state(db) -> tuple:
        sub = db.exec(select(Subscription)).one()
        return (
            sub.plan_id,
            [(i.number, i.status, i.total_minor) for i in db.exec(select(Invoice).order_by(Invoice.id))],
            credits.balance_minor(db, user_id=user.id, currency="USD"),
            len(db.exec(select(ProvisioningJob)).all()),
        )

    _HoldsCharges.upstream = stripe_env
    _HoldsCharges.charging.clear()
    _HoldsCharges.go.clear()
    with stripe_proxy(_HoldsCharges, monkeypatch), ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(first)
        assert _HoldsCharges.charging.wait(timeout=60), "the first change charges the card"
        with tenant_db(tenant) as db:
            before = state(db)
            assert before[0] == vps2 and before[1][-1][1] is InvoiceStatus.OPEN
            for plan_id in (vps2, vps1):
                with pytest.raises(DomainError) as refused:
                    change(db, plan_id=plan_id)
                assert str(refused.value) == (
                    "A plan change for this service is already in progress; try again in a minute."
                )
                db.rollback()
                assert state(db) == before
        _HoldsCharges.go.set()
        assert running.result(timeout=60) == "Plan changed to VPS 2: your server is being moved to it."
    with tenant_db(tenant) as db:
        after = state(db)
        assert after[0] == vps2 and after[1][:-1] == before[1][:-1]
        assert after[1][-1][1] is InvoiceStatus.PAID  # the change's invoice, paid once by card
