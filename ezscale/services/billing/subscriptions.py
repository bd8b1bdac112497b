"""Subscriptions on the customer's anchor day: ordering, period roll-over, cancel, plan change
(renewal invoices are issued by the billing run, `runs.invoice_renewals`)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select, update

from ezscale import clock
from ezscale.errors import DomainError, NotFound
from ezscale.models.billing import Payment, PaymentStatus
from ezscale.models.tenant import (
    BillingInterval,
    CreditKind,
    Invoice,
    InvoiceStatus,
    Plan,
    Service,
    ServiceStatus,
    Subscription,
    SubscriptionStatus,
    User,
)
from ezscale.models.types import existing, row_id
from ezscale.services.billing import credits, invoices, locks, payments, renewal_changes, timeline
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.proration import (
    latest_anchor,
    next_anchor,
    period_end,
    period_line,
    prorate,
    unused_part,
)
from ezscale.services.fx.currencies import customer_currency
from ezscale.services.fx.pricing import InvoiceRates, PlanPricing, plan_pricing
from ezscale.services.fx.rates import RateTable, current_table

ORDER_KEY_PREFIX = "order:"  # billing key of a subscription's first invoice: order:<subscription id>
PLAN_CHANGE_KEY_PREFIX = "plan-change:"  # plan-change:<subscription id>:<n>, a plan change's invoice
PLAN_CHANGE_IN_PROGRESS = "A plan change for this service is already in progress; try again in a minute."


def orderable_plan(session: Session, plan_id: int) -> Plan:
    """An active plan that can be ordered as a subscription, else NotFound or DomainError."""
    plan = session.get(Plan, plan_id)
    if plan is None or not plan.active:
        raise NotFound("No such plan.")
    if plan.billing_interval is BillingInterval.HOURLY:
        raise DomainError("Hourly plans are billed from usage and have no subscription.")
    return plan


@dataclass(frozen=True, slots=True)
class FirstCharge:
    """What ordering a plan at `start` costs: the setup fee and the part up to `end`."""

    start: datetime
    end: datetime
    setup_minor: int
    period_minor: int

    @property
    def subtotal_minor(self) -> int:
        """Setup fee plus the first period, before tax."""
        return self.setup_minor + self.period_minor


def customer_pricing(
    session: Session, *, user_id: int, plan: Plan, table: RateTable | None = None
) -> PlanPricing:
    """The plan's price and setup fee in the customer's currency, with the rates that made them
    (today's, or `table`'s)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such customer.")
    return plan_pricing(session, plan, currency=customer_currency(session, user), table=table)


def first_charge(plan: Plan, price: PlanPricing, *, anchor_day: int, now: datetime) -> FirstCharge:
    """The first invoice of a new subscription (before tax): setup fee, and the plan's price
    (`price`, in the customer's currency) prorated to the second from now to the customer's
    next anchor day."""
    full_start = latest_anchor(now, anchor_day)
    full_end = period_end(full_start, plan.billing_interval)
    end = next_anchor(now, anchor_day) if full_end > now else full_end
    period = prorate(
        price.price_minor,
        price.currency,
        part_seconds=int((end - now).total_seconds()),
        whole_seconds=int((full_end - full_start).total_seconds()),
    )
    return FirstCharge(start=now, end=end, setup_minor=price.setup_fee_minor, period_minor=period)


def subscribe(
    session: Session, *, user_id: int, plan_id: int, label: str = ""
) -> tuple[Subscription, Invoice]:
    """Order a plan: a service, a subscription aligned to the anchor day, and its first invoice
    (setup fee plus the prorated part up to the next anchor day). Committed."""
    plan = orderable_plan(session, plan_id)
    profile = ensure_profile(session, user_id=user_id)
    now = clock.now()
    price = customer_pricing(session, user_id=user_id, plan=plan)
    first = first_charge(plan, price, anchor_day=profile.anchor_day, now=now)
    end = first.end
    service = Service(user_id=user_id, plan_id=row_id(plan), label=label or plan.name, created_at=now)
    session.add(service)
    session.flush()
    sub = Subscription(
        user_id=user_id,
        plan_id=row_id(plan),
        service_id=service.id,
        current_period_start=now,
        current_period_end=end,
        invoiced_through=end,
        created_at=now,
    )
    session.add(sub)
    session.flush()
    invoice = invoices.create_draft(
        session,
        user_id=user_id,
        currency=price.currency,
        billing_key=f"{ORDER_KEY_PREFIX}{sub.id}",
        rates=price.rates,
    )
    if first.setup_minor:
        invoices.add_line(
            session,
            invoice,
            description=f"{plan.name} setup",
            unit_minor=first.setup_minor,
            service_id=service.id,
        )
    invoices.add_line(
        session,
        invoice,
        description=period_line(plan, now, end),
        unit_minor=first.period_minor,
        service_id=service.id,
    )
    invoices.issue(session, invoice)
    timeline.record(session, user_id=user_id, kind="subscribed", message=f"Subscribed to {plan.name}")
    session.commit()
    return sub, invoice


def get_subscription(session: Session, *, subscription_id: int, user_id: int | None = None) -> Subscription:
    """The subscription, if it exists and (when `user_id` is given) belongs to that customer."""
    sub = session.get(Subscription, subscription_id)
    if sub is None or (user_id is not None and sub.user_id != user_id):
        raise NotFound("No such subscription.")
    return sub


def cancel(session: Session, *, subscription: Subscription, at_period_end: bool = True) -> Subscription:
    """Cancel at the end of the paid period, or now (no refund here: that is a credit note).
    Either way a renewal already issued for the next period is voided or credited."""
    if subscription.status is SubscriptionStatus.CANCELLED:
        raise DomainError("This subscription is already cancelled.")
    trial = subscription.trial_ends_at is not None and clock.now() < subscription.trial_ends_at
    if at_period_end:
        subscription.cancel_at_period_end = True
        renewal_changes.follow_cancel(session, subscription=subscription)
        message = f"Cancels at period end {subscription.current_period_end:%Y-%m-%d}"
        if trial:
            message = (
                f"Free trial cancelled: ends {subscription.current_period_end:%Y-%m-%d}, nothing charged"
            )
    else:
        _end(session, subscription)
        message = "Free trial cancelled immediately, nothing charged" if trial else "Cancelled immediately"
    session.add(subscription)
    timeline.record(session, user_id=subscription.user_id, kind="cancelled", message=message)
    session.commit()
    return subscription


def _end(session: Session, subscription: Subscription) -> None:
    renewal_changes.follow_cancel(session, subscription=subscription)
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.cancelled_at = clock.now()
    if subscription.service_id:
        service = session.get(Service, subscription.service_id)
        if service and service.status is not ServiceStatus.TERMINATED:
            service.status, service.status_reason = ServiceStatus.TERMINATED, "cancelled"
            session.add(service)
            from ezscale.models.provisioning import JobAction
            from ezscale.services.provisioning import lifecycle

            lifecycle.request(
                session,
                service_id=row_id(service),
                action=JobAction.TERMINATE,
                cause=f"cancel:{row_id(subscription)}",
            )


@dataclass(frozen=True, slots=True)
class PlanChangeSplit:
    """Moving a subscription to `new` now, before tax, in the customer's currency: the unused
    part of the period on the old plan (credited) and on the new one (charged), to the second."""

    old: Plan
    new: Plan
    currency: str
    credit_minor: int
    charge_minor: int
    new_price_minor: int
    rates: InvoiceRates


def plan_change_split(session: Session, *, subscription: Subscription, plan_id: int) -> PlanChangeSplit:
    """What switching to `plan_id` now credits and charges (nothing written); the one computation
    behind both a quote and `change_plan`. Both parts use the rate the period was billed at
    (`proration.billed_span`), so a first, shorter period is not credited above what was paid."""
    if subscription.status is not SubscriptionStatus.ACTIVE:
        raise DomainError("Only active subscriptions can change plan.")
    if subscription.trial_ends_at is not None and clock.now() < subscription.trial_ends_at:
        raise DomainError(
            "A plan cannot be changed during its free trial: cancel the trial and order the other plan."
        )
    old, new = existing(session, Plan, subscription.plan_id), orderable_plan(session, plan_id)
    if new.id == old.id:
        raise DomainError("That is already the current plan.")
    if new.currency != old.currency or new.billing_interval is not old.billing_interval:
        raise DomainError("Plans must share currency and billing interval to switch mid-period.")
    now = clock.now()
    start, end = subscription.current_period_start, subscription.current_period_end
    table = current_table()
    old_price = customer_pricing(session, user_id=subscription.user_id, plan=old, table=table)
    new_price = customer_pricing(session, user_id=subscription.user_id, plan=new, table=table)
    currency = new_price.currency

    def unused(amount_minor: int) -> int:
        interval = old.billing_interval
        return unused_part(amount_minor, currency, start=start, end=end, at=now, interval=interval)

    return PlanChangeSplit(
        old=old,
        new=new,
        currency=currency,
        credit_minor=unused(old_price.price_minor),
        charge_minor=unused(new_price.price_minor),
        new_price_minor=new_price.price_minor,
        rates=new_price.rates,
    )


def _unpaid_plan_change(session: Session, subscription: Subscription) -> Invoice | None:
    """An earlier plan change of this subscription still waiting for payment."""
    return session.exec(
        select(Invoice).where(
            col(Invoice.billing_key).startswith(f"{PLAN_CHANGE_KEY_PREFIX}{subscription.id}:"),
            col(Invoice.status) == InvoiceStatus.OPEN,
        )
    ).first()


def refuse_while_changing(session: Session, *, subscription: Subscription) -> None:
    """Refuse (DomainError, nothing changed) while an earlier plan change of the subscription is
    still collecting its invoice: not yet tried, or a charge of it running (both within a charge
    attempt's lease, so a change whose request died is not "in progress" for ever)."""
    unpaid = _unpaid_plan_change(session, subscription)
    if unpaid is None:
        return
    recent = clock.now() - payments.ATTEMPT_LEASE
    running = select(Payment.id).where(
        Payment.invoice_id == unpaid.id,
        Payment.status == PaymentStatus.PENDING,
        col(Payment.updated_at) > recent,
    )
    untried = unpaid.attempt_count == 0 and unpaid.issued_at is not None and unpaid.issued_at > recent
    if untried or session.exec(running).first() is not None:
        raise DomainError(PLAN_CHANGE_IN_PROGRESS)


def _plan_change_key(session: Session, subscription: Subscription) -> str:
    prefix = f"{PLAN_CHANGE_KEY_PREFIX}{subscription.id}:"
    made = session.exec(select(Invoice.id).where(col(Invoice.billing_key).startswith(prefix))).all()
    return f"{prefix}{len(made) + 1}"


def change_plan(session: Session, *, subscription: Subscription, plan_id: int) -> Invoice | None:
    """Switch plan now: credit for the unused part of the old plan, charge for the new one, both
    to the second (`plan_change_split`). A net charge is invoiced; a net credit goes to the
    account credit ledger. Refused while an earlier change's invoice is unpaid: the time on the
    plan it bought is not the customer's to be credited until it is paid; while that change is
    still collecting its invoice, the refusal says it is in progress. The subscription is locked
    and read fresh first, so two changes at once (or one from a stale page) cannot both credit the
    same unused time."""
    subscription = locks.lock_held(session, Subscription, row_id(subscription))
    refuse_while_changing(session, subscription=subscription)
    split = plan_change_split(session, subscription=subscription, plan_id=plan_id)
    unpaid = _unpaid_plan_change(session, subscription)
    if unpaid is not None:
        raise DomainError(f"Pay invoice {unpaid.number} for the last plan change first.")
    old, new, currency = split.old, split.new, split.currency
    subscription.plan_id = row_id(new)
    session.add(subscription)
    if subscription.service_id:
        service = existing(session, Service, subscription.service_id)
        service.plan_id = row_id(new)
        if service.label == old.name:  # named after its plan (not by the customer): follows it
            service.label = new.name
        session.add(service)
    timeline.record(
        session,
        user_id=subscription.user_id,
        kind="plan_changed",
        message=f"Plan changed from {old.name} to {new.name}",
    )
    renewal_changes.follow_plan_change(
        session, subscription=subscription, plan=new, price_minor=split.new_price_minor
    )
    invoice = None
    if split.charge_minor >= split.credit_minor:
        invoice = invoices.create_draft(
            session,
            user_id=subscription.user_id,
            currency=currency,
            billing_key=_plan_change_key(session, subscription),
            rates=split.rates,
        )
        invoices.add_line(
            session,
            invoice,
            description=f"Unused time on {old.name}",
            unit_minor=-split.credit_minor,
            service_id=subscription.service_id,
        )
        invoices.add_line(
            session,
            invoice,
            description=f"Remaining time on {new.name}",
            unit_minor=split.charge_minor,
            service_id=subscription.service_id,
        )
        invoices.issue(session, invoice)
    else:
        credits.add_entry(
            session,
            user_id=subscription.user_id,
            kind=CreditKind.ADJUSTMENT,
            amount_minor=split.credit_minor - split.charge_minor,
            currency=currency,
            memo=f"Proration credit: {old.name} → {new.name}",
        )
        if subscription.service_id:
            from ezscale.services.provisioning.lifecycle import follow_plan

            follow_plan(session, service_id=subscription.service_id)  # nothing to pay: change now
    session.commit()
    return invoice


def roll_periods(session: Session) -> int:
    """Move subscriptions whose period ended into the next one; end those cancelling. Committed.

    Renewing rows move with one UPDATE per (period end, interval), so a run over many thousand
    subscriptions costs a handful of statements and no memory."""
    now = clock.now()
    live = (
        col(Subscription.status) != SubscriptionStatus.CANCELLED,
        col(Subscription.current_period_end) <= now,
    )
    ending = list(
        session.exec(select(Subscription).where(*live, col(Subscription.cancel_at_period_end).is_(True)))
    )
    for sub in ending:
        _end(session, sub)
        session.add(sub)
        timeline.record(
            session, user_id=sub.user_id, kind="cancelled", message="Subscription ended at period end"
        )
    session.commit()
    moved = len(ending)
    renewing = (*live, col(Subscription.cancel_at_period_end).is_(False))
    while groups := session.exec(
        select(col(Subscription.current_period_end), col(Plan.billing_interval))
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .where(*renewing)
        .distinct()
    ).all():
        for end, interval in groups:
            same_interval = select(Plan.id).where(Plan.billing_interval == interval)
            result = session.exec(
                update(Subscription)
                .where(
                    *renewing,
                    col(Subscription.current_period_end) == end,
                    col(Subscription.plan_id).in_(same_interval),
                )
                .values(current_period_start=end, current_period_end=period_end(end, interval))
                .execution_options(synchronize_session=False)
            )
            moved += result.rowcount
        session.commit()
    return moved


def upcoming(session: Session, *, user_id: int) -> list[tuple[Subscription, Plan]]:
    """Active subscriptions with their plan, next renewal first (the "upcoming charges" view).

    An order whose first invoice is unpaid (its service still pending) renews nothing yet; a free
    trial (nothing to pay first) shows while its service is being set up too."""
    return list(
        session.exec(
            select(Subscription, Plan)
            .join(Plan, col(Plan.id) == col(Subscription.plan_id))
            .outerjoin(Service, col(Service.id) == col(Subscription.service_id))
            .where(
                col(Subscription.user_id) == user_id,
                col(Subscription.status) != SubscriptionStatus.CANCELLED,
                or_(
                    col(Service.id).is_(None),
                    col(Service.status) != ServiceStatus.PENDING,
                    col(Subscription.trial_ends_at).is_not(None),
                ),
            )
            .order_by(col(Subscription.invoiced_through))
        )
    )
