"""Demo history for the analytics charts: a year of customers, plan changes, cancellations and
invoices in the house storefront, then the daily snapshots of that year.

Idempotent: the customers are only added once (found by their e-mail domain); the snapshots of
past days are recomputed, which leaves the same rows.
"""

import random
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.analytics import PlanChange
from ezscale.models.tenant import (
    BillingInterval,
    Invoice,
    InvoiceItem,
    InvoiceStatus,
    Plan,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.models.types import row_id
from ezscale.services.analytics.snapshots import SnapshotReport, snapshot_days
from ezscale.services.tenancy.tenants import TenantInfo, tenant_session

DOMAIN = "history.demo.test"
CUSTOMERS = 60
_INTERVAL_DAYS = {BillingInterval.MONTHLY: 30, BillingInterval.QUARTERLY: 91, BillingInterval.ANNUAL: 365}


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _invoice(
    db: Session, user: User, service: Service, plan: Plan, issued: date, today: date, n: int
) -> None:
    paid = issued + timedelta(days=n % 9)
    invoice = Invoice(
        user_id=row_id(user),
        number=f"DEMO-{user.id}-{n}",
        currency=plan.currency,
        subtotal_minor=plan.price_minor,
        total_minor=plan.price_minor,
        issued_at=_at(issued),
        due_at=_at(issued + timedelta(days=14)),
        created_at=_at(issued),
    )
    db.add(invoice)
    db.flush()
    db.add(
        InvoiceItem(
            invoice_id=row_id(invoice),
            service_id=service.id,
            description=plan.name,
            unit_minor=plan.price_minor,
            amount_minor=plan.price_minor,
        )
    )
    db.flush()
    settled = paid < today and row_id(user) % 11 != 0
    invoice.status = InvoiceStatus.PAID if settled else InvoiceStatus.OPEN
    invoice.paid_at = _at(paid, 15) if settled else None
    invoice.amount_paid_minor = plan.price_minor if settled else 0
    db.add(invoice)


def _customer(db: Session, rng: random.Random, n: int, plans: list[Plan], today: date) -> None:
    joined = today - timedelta(days=rng.randrange(5, 365))
    user = User(
        email=f"customer{n}@{DOMAIN}", password_hash="-", name=f"Demo Customer {n}", created_at=_at(joined, 9)
    )
    db.add(user)
    db.flush()
    if rng.random() < 0.15:  # signed up, never bought
        return
    plan = rng.choice(plans)
    same = [p for p in plans if p.billing_interval is plan.billing_interval and p.id != plan.id]
    changed = joined + timedelta(days=rng.randrange(10, 120))
    switch = rng.choice(same) if same and rng.random() < 0.25 else None
    ended = joined + timedelta(days=rng.randrange(20, 300)) if rng.random() < 0.2 else None
    ended = ended if ended and ended < today else None
    switch = switch if switch and changed < (ended or today) else None
    current = switch or plan
    service = Service(
        user_id=row_id(user),
        plan_id=row_id(current),
        label=plan.name,
        status=ServiceStatus.TERMINATED if ended else ServiceStatus.ACTIVE,
        created_at=_at(joined),
    )
    db.add(service)
    db.flush()
    sub = Subscription(
        user_id=row_id(user),
        plan_id=row_id(current),
        service_id=service.id,
        status=SubscriptionStatus.CANCELLED if ended else SubscriptionStatus.ACTIVE,
        current_period_start=_at(joined),
        current_period_end=_at(joined + timedelta(days=_INTERVAL_DAYS[plan.billing_interval])),
        cancelled_at=_at(ended) if ended else None,
        created_at=_at(joined),
    )
    db.add(sub)
    db.flush()
    issued, count = joined, 0
    while issued < (ended or today):
        count += 1
        _invoice(db, user, service, plan, issued, today, count)
        issued += timedelta(days=_INTERVAL_DAYS[plan.billing_interval])
    if switch:
        db.add(
            PlanChange(
                subscription_id=row_id(sub),
                user_id=row_id(user),
                from_plan_id=row_id(plan),
                to_plan_id=row_id(switch),
                changed_at=_at(changed, 12),
            )
        )


def seed_demo_history(central: Session, *, tenant: TenantInfo) -> SnapshotReport:
    """Add the demo customers (once), then snapshot the last year of every tenant."""
    today = clock.now().date()
    with tenant_session(tenant) as db:
        if db.exec(select(User.id).where(User.email == f"customer1@{DOMAIN}")).first() is None:
            plans = [
                p
                for p in db.exec(select(Plan).order_by(col(Plan.id)))
                if p.billing_interval in _INTERVAL_DAYS
            ]
            rng = random.Random(2026)
            for n in range(1, CUSTOMERS + 1):
                _customer(db, rng, n, plans, today)
            db.commit()
    return snapshot_days(central, start=today - timedelta(days=365), end=today - timedelta(days=1))
