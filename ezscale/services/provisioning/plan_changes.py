"""A customer's upgrade, downgrade or cancellation of a provisioned service.

The price comes from the billing core (`subscriptions.change_plan`: unused time on the old plan
credited, remaining time on the new one charged, both to the second, at the rate the period was
billed), and the quote shown first is the same computation (`plan_change_split`) without
writing. The panel's package changes only once the change is paid (`lifecycle.follow_plan`, run
when its invoice is paid or a downgrade is credited). Cancellation uses `subscriptions.cancel`;
the credit rule is `CANCEL_RULE`. Every step is audited and on the customer's timeline.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from ezscale.db import central_session
from ezscale.errors import DomainError, NotFound
from ezscale.models.tenant import Invoice, InvoiceStatus, Plan, Service, Subscription, SubscriptionStatus
from ezscale.models.types import existing, row_id
from ezscale.services.accounts.sessions import AuthUser
from ezscale.services.billing import credits, payments, subscriptions
from ezscale.services.billing.stripe_gateway import PaymentProviderUnavailable, StripeGateway
from ezscale.services.catalogue.storefront import price_label
from ezscale.services.core.audit import record_audit
from ezscale.services.provisioning.handles import handle_of
from ezscale.services.provisioning.module import Capability
from ezscale.services.provisioning.registry import mapping_for_plan, module_class
from ezscale.services.provisioning.view import owned_service
from ezscale.services.tenancy.tenants import TenantInfo

CANCEL_RULE = (
    "Cancel at the end of the period: the service keeps running until {end} and is not renewed. "
    "Cancel now: the service is removed from its server at once, and the unused part of the "
    "period already paid is not credited back."
)


@dataclass(frozen=True)
class PlanOption:
    """A plan the service can move to."""

    id: int
    name: str
    price: str


@dataclass(frozen=True)
class PlanChangeQuote:
    """What moving to `plan_id` now costs (before tax) or credits, to the second."""

    plan_id: int
    from_plan: str
    to_plan: str
    currency: str
    credit_minor: int
    charge_minor: int

    @property
    def net_minor(self) -> int:
        """Positive: to pay now (before tax); negative: added to account credit."""
        return self.charge_minor - self.credit_minor


def live_subscription(session: Session, *, service: Service) -> Subscription:
    """The service's subscription that is not cancelled (DomainError if it has none)."""
    sub = session.exec(
        select(Subscription)
        .where(Subscription.service_id == service.id, Subscription.status != SubscriptionStatus.CANCELLED)
        .order_by(col(Subscription.id).desc())
    ).first()
    if sub is None:
        raise DomainError("This service has no running subscription.")
    return sub


def plan_options(session: Session, *, user_id: int, service_id: int) -> list[PlanOption]:
    """Active plans of the same kind, interval and currency the service can switch to."""
    service = owned_service(session, user_id=user_id, service_id=service_id)
    handle = handle_of(session, row_id(service))
    if handle is not None and not _changes_package(handle.module):
        return []  # the module cannot move it: the page offers no plan change at all
    current = existing(session, Plan, service.plan_id)
    plans = session.exec(
        select(Plan)
        .where(
            Plan.active,
            col(Plan.id) != current.id,
            Plan.service_type == current.service_type,
            Plan.billing_interval == current.billing_interval,
            Plan.currency == current.currency,
        )
        .order_by(col(Plan.sort_order), col(Plan.price_minor), col(Plan.id))
    )
    found = list(plans)
    if handle is not None:  # only plans its own panel delivers (or billing-only ones)
        with central_session() as central:
            panel_of = {p.id: mapping_for_plan(central, p.provisioning_code) for p in found}
        mapped = {plan: m.panel_id if m is not None else None for plan, m in panel_of.items()}
        found = [p for p in found if mapped[p.id] in (None, handle.panel_id)]
    return [PlanOption(row_id(p), p.name, price_label(p)) for p in found]


def _changes_package(module: str) -> bool:
    """Whether the module can move a service to another package."""
    try:
        return Capability.CHANGE_PACKAGE in module_class(module).capabilities
    except DomainError:
        return False


def quote(session: Session, *, user_id: int, service_id: int, plan_id: int) -> PlanChangeQuote:
    """The prorated price of switching now (nothing is written); the same split as `change_plan`."""
    service = owned_service(session, user_id=user_id, service_id=service_id)
    sub = live_subscription(session, service=service)
    if plan_id not in {o.id for o in plan_options(session, user_id=user_id, service_id=service_id)}:
        raise NotFound("No such plan for this service.")
    split = subscriptions.plan_change_split(session, subscription=sub, plan_id=plan_id)
    return PlanChangeQuote(
        plan_id, split.old.name, split.new.name, split.currency, split.credit_minor, split.charge_minor
    )


def change_plan(
    session: Session,
    *,
    tenant: TenantInfo,
    actor: AuthUser,
    service_id: int,
    plan_id: int,
    ip: str = "",
    gw: StripeGateway | None = None,
) -> str:
    """Switch the service's plan now and collect the difference (credit first, then the default
    card); returns what happened, for the page. Refused, changing nothing, when a charge is due
    and neither credit nor a card can pay it, or while an earlier change is still being paid
    (whatever plan this one asks for). The panel follows once the change is paid."""
    service = owned_service(session, user_id=actor.id, service_id=service_id)
    sub = live_subscription(session, service=service)
    subscriptions.refuse_while_changing(session, subscription=sub)
    offer = quote(session, user_id=actor.id, service_id=service_id, plan_id=plan_id)
    if offer.net_minor > 0:
        balance = credits.balance_minor(session, user_id=actor.id, currency=offer.currency)
        if balance < offer.net_minor and payments.default_card(session, user_id=actor.id) is None:
            raise DomainError("Add a card or account credit first: this change is paid when it is made.")
    invoice = subscriptions.change_plan(session, subscription=sub, plan_id=plan_id)
    record_audit(
        actor=actor,
        action="service.plan_change",
        target=f"service:{service.id}",
        before={"plan": offer.from_plan},
        after={"plan": offer.to_plan, "net_minor": offer.net_minor},
        ip=ip,
    )
    if invoice is not None and not _collect(session, tenant=tenant, invoice=invoice, gw=gw):
        return f"Plan changed to {offer.to_plan}. Pay invoice {invoice.number} to move your server to it."
    return f"Plan changed to {offer.to_plan}: your server is being moved to it."


def _collect(session: Session, *, tenant: TenantInfo, invoice: Invoice, gw: StripeGateway | None) -> bool:
    """Pay the change's invoice from credit, then the card; whether it is paid now."""
    try:
        payments.charge_invoice(session, tenant=tenant, invoice=invoice, gw=gw)
    except (PaymentProviderUnavailable, payments.PaymentInProgress):
        session.rollback()
    session.refresh(invoice)
    return invoice.status is InvoiceStatus.PAID


def cancel(session: Session, *, actor: AuthUser, service_id: int, immediately: bool, ip: str = "") -> str:
    """Cancel at period end (runs until then) or now (removed from the panel; no credit for the
    unused time, per `CANCEL_RULE`); returns what happened, for the page."""
    service = owned_service(session, user_id=actor.id, service_id=service_id)
    sub = live_subscription(session, service=service)
    if sub.cancel_at_period_end and not immediately:
        raise DomainError("This service already cancels at the end of its period.")
    end = f"{sub.current_period_end:%Y-%m-%d}"
    subscriptions.cancel(session, subscription=sub, at_period_end=not immediately)
    record_audit(
        actor=actor,
        action="service.cancel",
        target=f"service:{service.id}",
        after={"when": "now" if immediately else f"period end {end}"},
        ip=ip,
    )
    if immediately:  # the billing core queues its removal from the panel (lifecycle TERMINATE)
        return "Cancelled: the service is being removed."
    return f"Cancelled: the service runs until {end} and is not renewed."
