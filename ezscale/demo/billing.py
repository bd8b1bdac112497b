"""Demo billing data for a customer (idempotent): tax rates, credit, a paid VPS subscription."""

from decimal import Decimal

from sqlmodel import Session, select

from ezscale.models.tenant import CreditKind, Plan, Subscription, User
from ezscale.models.types import row_id
from ezscale.services.billing import credits, invoices, subscriptions
from ezscale.services.billing.profiles import ensure_profile
from ezscale.services.billing.tax import set_tax_rate

DEMO_TAX = {"DE": Decimal("19"), "FR": Decimal("20"), "NL": Decimal("21"), "GB": Decimal("20")}


def seed_billing_demo(session: Session, *, customer_email: str) -> None:
    """Demo tax rates, a welcome credit and a VPS subscription paid from it, for the demo customer."""
    for country, rate in DEMO_TAX.items():
        set_tax_rate(session, country=country, rate_percent=rate)
    user = session.exec(select(User).where(User.email == customer_email)).first()
    vps = session.exec(select(Plan).where(Plan.code == "vps-1")).first()
    if user is None or vps is None:
        return
    ensure_profile(session, user_id=row_id(user), anchor_day=1)
    credits.add_entry(
        session,
        user_id=row_id(user),
        kind=CreditKind.TOP_UP,
        amount_minor=2500,
        currency=vps.currency,
        memo="Welcome credit",
        reference="demo:welcome-credit",
    )
    session.commit()
    if session.exec(select(Subscription.id).where(Subscription.user_id == user.id)).first() is None:
        _, invoice = subscriptions.subscribe(session, user_id=row_id(user), plan_id=row_id(vps))
        invoices.apply_credit(session, invoice)
        session.commit()
