"""Ordering a recurring plan from the storefront: quote, first invoice, credit, card, activation."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import func, select

from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import BillingEvent, BillingProfile, Payment, PaymentMethod, PaymentStatus
from ezscale.models.tenant import (
    CreditKind,
    Invoice,
    InvoiceStatus,
    Plan,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
)
from ezscale.services.billing import credits, invoices, orders, runs, views
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.stripe_gateway import PaymentProviderUnavailable
from ezscale.services.billing.tax import set_tax_rate
from ezscale.services.provisioning import view
from ezscale.services.tenancy.tenants import TenantInfo
from tests.factories import add_card, add_customer, plan, tenant_db

DECLINED_ON_CHARGE = "4000000000000341"


@pytest.fixture(autouse=True)
def _mid_month(clock):
    clock.set(datetime(2026, 11, 16, tzinfo=UTC))  # 15 of 30 days left to Dec 1


def _customer(session, *, anchor_day: int | None = 1, email="buyer@example.test", credit=0, **fields):
    user = add_customer(session, email, **fields)
    if anchor_day is not None:
        ensure_profile(session, user_id=user.id, anchor_day=anchor_day)
    if credit:
        credits.add_entry(
            session, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=credit, currency="USD", memo="gift"
        )
    session.commit()
    return user


def _kinds(session, user_id) -> list[str]:
    return list(session.exec(select(BillingEvent.kind).where(BillingEvent.user_id == user_id)))


def _counts(session) -> dict[str, int]:
    tables = (Service, Subscription, Invoice, BillingProfile, BillingEvent, Payment)
    return {t.__name__: session.exec(select(func.count()).select_from(t)).one() for t in tables}


def test_quote_is_the_first_invoice_with_setup_fee_and_tax(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        set_tax_rate(session, country="DE", rate_percent=Decimal("19"))
        vps = plan(session, "vps-1")  # 6.00 a month
        vps.setup_fee_minor = 1000
        session.add(vps)
        session.commit()
        user = _customer(session, anchor_day=None, country="DE")  # no billing profile yet
        before = _counts(session)

        quote = orders.quote(session, user_id=user.id, plan_code="vps-1")
        # A new customer's billing day is today (the 16th): a whole first month, no proration.
        assert (quote.setup_minor, quote.period_minor) == (1000, 600)
        assert quote.period_end == datetime(2026, 12, 16, tzinfo=UTC)
        assert (quote.tax_minor, quote.total_minor, quote.due_now_minor) == (304, 1904, 1904)
        shown = views.order_quote_row(quote)
        assert shown.recurring == "$6.00/mo" and shown.tax_label == "VAT 19%"
        assert (shown.total, shown.period) == ("$19.04", "2026-11-16 – 2026-12-16")
        assert views.order_quote(session, user_id=user.id, plan_code="vps-1") == shown  # no saved card
        assert _counts(session) == before  # a quote writes nothing

        order = orders.place_order(session, tenant=tenant, user_id=user.id, plan_code="vps-1")
        assert order.invoice.total_minor == quote.total_minor
        assert order.invoice.tax_minor == quote.tax_minor and order.invoice.status is InvoiceStatus.OPEN


def test_prorated_order_paid_from_credit_activates_the_service(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user = _customer(session, credit=1000)
        quote = orders.quote(session, user_id=user.id, plan_code="vps-2")  # 15.00 a month
        assert (quote.total_minor, quote.credit_minor, quote.due_now_minor) == (750, 750, 0)

        order = orders.place_order(session, tenant=tenant, user_id=user.id, plan_code="vps-2")
        assert order.paid and order.invoice.total_minor == quote.total_minor
        assert order.invoice.credit_applied_minor == 750 and order.invoice.amount_paid_minor == 0
        assert order.service.status is ServiceStatus.ACTIVE and order.service.label == "VPS 2"
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 250
        sub = session.exec(select(Subscription).where(Subscription.service_id == order.service.id)).one()
        assert sub.current_period_end == datetime(2026, 12, 1, tzinfo=UTC)
        assert {"subscribed", "invoice_issued", "invoice_paid", "service_activated"} <= set(
            _kinds(session, user.id)
        )
        rows = view.service_rows(session, user_id=user.id)  # the client dashboard's rows
        assert [(r.label, r.plan, r.status) for r in rows] == [("VPS 2", "VPS 2", "active")]


def test_order_rest_is_charged_to_the_saved_card(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user = _customer(session, credit=200)
        add_card(session, tenant, user.id)
        order = orders.place_order(session, tenant=tenant, user_id=user.id, plan_code="vps-2")
        assert order.paid and order.service.status is ServiceStatus.ACTIVE
        assert (order.invoice.credit_applied_minor, order.invoice.amount_paid_minor) == (200, 550)
        payment = session.exec(select(Payment).where(Payment.invoice_id == order.invoice.id)).one()
        assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_minor == 550


def test_declined_card_leaves_the_order_to_dunning(make_tenant, clock, stripe_env):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user = _customer(session)
        add_card(session, tenant, user.id, DECLINED_ON_CHARGE)
        order = orders.place_order(session, tenant=tenant, user_id=user.id, plan_code="vps-2")
        assert not order.paid and order.service.status is ServiceStatus.PENDING
        assert order.invoice.attempt_count == 1 and order.invoice.next_attempt_at is not None


class _UnreachableStripe:
    account = None

    def on_account(self, account):
        return self

    def charge_off_session(self, **_):
        raise PaymentProviderUnavailable("The payment provider is unavailable; try again later.")


def test_order_stands_when_the_card_cannot_be_reached(make_tenant, clock):
    """The order is made before the charge: a provider outage leaves a resumable attempt."""
    tenant = TenantInfo.of(make_tenant("shop", is_house=True))  # on the platform's account
    with tenant_db(tenant) as session:
        user = _customer(session)
        ensure_profile(session, user_id=user.id).stripe_customer_id = "cus_order"
        session.add(
            PaymentMethod(
                user_id=user.id, stripe_payment_method_id="pm_order", is_default=True, created_at=clock.now()
            )
        )
        session.commit()
        order = orders.place_order(
            session, tenant=tenant, user_id=user.id, plan_code="vps-2", gw=_UnreachableStripe()
        )
        assert not order.paid and order.service.status is ServiceStatus.PENDING
        payment = session.exec(select(Payment).where(Payment.invoice_id == order.invoice.id)).one()
        assert payment.status is PaymentStatus.PENDING  # resumed by the next billing run


def test_order_without_credit_or_card_stays_open_until_paid(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user = _customer(session)
        order = orders.place_order(session, tenant=tenant, user_id=user.id, plan_code="game-minecraft")
        assert not order.paid and order.service.status is ServiceStatus.PENDING
        # Unpaid, the order renews nothing yet: it is not an upcoming charge.
        assert views.overview(session, tenant=tenant, user_id=user.id).upcoming == []
        assert invoices.amount_due(order.invoice) == order.invoice.total_minor == 600
        # No payment was attempted, so no failure and no dunning schedule yet.
        assert order.invoice.attempt_count == 0 and "payment_failed" not in _kinds(session, user.id)

        # Paid later (here from credit added afterwards): the service starts then.
        credits.add_entry(
            session, user_id=user.id, kind=CreditKind.TOP_UP, amount_minor=600, currency="USD", memo="top-up"
        )
        invoices.apply_credit(session, order.invoice)
        session.commit()
        session.refresh(order.service)
        assert order.invoice.status is InvoiceStatus.PAID and order.service.status is ServiceStatus.ACTIVE
        [row] = views.overview(session, tenant=tenant, user_id=user.id).upcoming
        assert (row.plan, row.next_date) == ("Minecraft 4 GB", "2026-12-01")


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        ("kasm-dev-basic", DomainError, "Hourly plans"),
        ("vps-2", NotFound, "No such plan"),  # made inactive below
        ("no-such-plan", NotFound, "No such plan"),
    ],
)
def test_hourly_inactive_and_unknown_plans_are_refused(make_tenant, clock, code, error, message):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        retired = plan(session, "vps-2")
        retired.active = False
        session.add(retired)
        session.commit()
        user = _customer(session, credit=5000)
        before = _counts(session)
        with pytest.raises(error, match=message):
            orders.quote(session, user_id=user.id, plan_code=code)
        with pytest.raises(error, match=message):
            orders.place_order(session, tenant=tenant, user_id=user.id, plan_code=code)
        assert _counts(session) == before
        assert credits.balance_minor(session, user_id=user.id, currency="USD") == 5000


def test_another_tenants_plan_cannot_be_ordered(make_tenant, clock):
    shop = TenantInfo.of(make_tenant("shop"))
    other = TenantInfo.of(make_tenant("other"))
    with tenant_db(other) as session:
        session.add(Plan(code="other-vps", name="Other VPS", price_minor=900, currency="USD"))
        session.commit()
    with tenant_db(shop) as session:
        user = _customer(session, credit=5000)
        before = _counts(session)
        with pytest.raises(NotFound):
            orders.place_order(session, tenant=shop, user_id=user.id, plan_code="other-vps")
        assert _counts(session) == before


def test_unknown_customer_is_refused(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        before = _counts(session)
        with pytest.raises(NotFound, match="No such customer"):
            orders.place_order(session, tenant=tenant, user_id=999, plan_code="vps-1")
        assert _counts(session) == before


def test_an_order_never_paid_is_cancelled_at_the_termination_threshold(make_tenant, clock):
    tenant = TenantInfo.of(make_tenant("shop"))
    with tenant_db(tenant) as session:
        user = _customer(session)
        order = orders.place_order(session, tenant=tenant, user_id=user.id, plan_code="vps-1")
        runs.daily_run(session, tenant=tenant)  # no card: the first attempt fails, dunning starts
        clock.set(datetime(2026, 12, 16, 1, tzinfo=UTC))  # 30 days overdue
        report = runs.daily_run(session, tenant=tenant)
        session.refresh(order.service)
        subscription = session.exec(select(Subscription)).one()
        assert report.dunning.terminated == 1 and order.service.status is ServiceStatus.TERMINATED
        assert subscription.status is SubscriptionStatus.CANCELLED
