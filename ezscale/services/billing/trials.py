"""Free trials: a plan's `trial_days`, one trial per customer and plan.

Ordering a trial plan needs a saved payment method (card or PayPal vault) but charges nothing:
the service starts at once and the subscription's trial runs from now to `trial_ends_at`. At that
moment the billing run issues the first invoice (setup fee and the first full period, which starts
at the trial's end) and charges it off-session, with dunning as for any renewal. Cancelling during
the trial costs nothing. The database grants one trial per customer and plan (a unique constraint
on `subscriptions (user_id, trial_plan_id)`), so of two orders placed at once one gets the trial
and the other is an ordinary paid order.
"""

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.errors import DomainError
from ezscale.models.tenant import Plan, Service, Subscription
from ezscale.models.types import row_id
from ezscale.services.billing import locks, payments, timeline
from ezscale.services.billing.profiles import ensure_profile

NEEDS_METHOD = (
    "A free trial needs a saved card or PayPal account: add one on the billing page, then order again."
)


def trial_available(session: Session, *, user_id: int, plan: Plan) -> bool:
    """Whether ordering `plan` now would start a free trial for this customer."""
    if plan.trial_days <= 0:
        return False
    used = session.exec(
        select(Subscription.id).where(
            col(Subscription.user_id) == user_id, col(Subscription.trial_plan_id) == row_id(plan)
        )
    ).first()
    return used is None


def trial_end(plan: Plan, *, now: datetime) -> datetime:
    """When a trial of `plan` started at `now` ends."""
    return now + timedelta(days=plan.trial_days)


def require_payment_method(session: Session, *, user_id: int) -> None:
    """A trial is only started for a customer who can be charged off-session at its end."""
    if payments.default_card(session, user_id=user_id) is None:
        raise DomainError(NEEDS_METHOD)


def start_trial(session: Session, *, user_id: int, plan: Plan, label: str = "") -> Subscription | None:
    """The service and trialing subscription of a trial order, not yet committed (the caller
    starts the service and commits); nothing is invoiced.

    Returns None, with nothing written, when this customer has had a trial of this plan (also
    when a concurrent order took it a moment ago): the caller then places a paid order."""
    locks.write_lock(session)  # SQLite: the check below and the insert in one write transaction
    if not trial_available(session, user_id=user_id, plan=plan):
        session.rollback()
        return None
    ensure_profile(session, user_id=user_id)
    now = clock.now()
    ends = trial_end(plan, now=now)
    service = Service(user_id=user_id, plan_id=row_id(plan), label=label or plan.name, created_at=now)
    session.add(service)
    session.flush()
    sub = Subscription(
        user_id=user_id,
        plan_id=row_id(plan),
        service_id=service.id,
        current_period_start=now,
        current_period_end=ends,
        invoiced_through=ends,
        trial_plan_id=row_id(plan),
        trial_ends_at=ends,
        created_at=now,
    )
    session.add(sub)
    try:
        session.flush()
    except IntegrityError:  # another order of this customer took the trial meanwhile
        session.rollback()
        return None
    timeline.record(
        session,
        user_id=user_id,
        kind="subscribed",
        message=f"Started a {plan.trial_days}-day free trial of {plan.name} (first invoice {ends:%Y-%m-%d})",
    )
    return sub


def in_trial(subscription: Subscription, *, now: datetime | None = None) -> bool:
    """Whether the subscription is still in its free trial."""
    ends = subscription.trial_ends_at
    return ends is not None and (now or clock.now()) < ends
