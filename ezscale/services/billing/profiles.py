"""Per-customer billing profile: anchor day and Stripe customer id."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ezscale import clock
from ezscale.errors import NotFound
from ezscale.models.billing import BillingProfile
from ezscale.models.tenant import User
from ezscale.services.billing.proration import validate_anchor_day


def get_profile(session: Session, *, user_id: int) -> BillingProfile | None:
    """The customer's billing profile, or None before the first order."""
    return session.exec(select(BillingProfile).where(BillingProfile.user_id == user_id)).first()


def _first_anchor_day() -> int:
    """A new profile's anchor: the day the customer starts, capped at 28."""
    return min(clock.now().day, 28)


def current_anchor_day(session: Session, *, user_id: int) -> int:
    """The customer's anchor day, or the one their profile would get now (nothing is written)."""
    profile = get_profile(session, user_id=user_id)
    return profile.anchor_day if profile is not None else _first_anchor_day()


def ensure_profile(session: Session, *, user_id: int, anchor_day: int | None = None) -> BillingProfile:
    """The customer's profile, created (anchor = the day they sign up, capped at 28) if missing."""
    profile = get_profile(session, user_id=user_id)
    if profile is not None:
        return profile
    if session.get(User, user_id) is None:
        raise NotFound(f"No customer with id {user_id}.")
    now = clock.now()
    day = validate_anchor_day(anchor_day if anchor_day is not None else _first_anchor_day())
    profile = BillingProfile(user_id=user_id, anchor_day=day, created_at=now)
    try:
        with session.begin_nested():
            session.add(profile)
    except IntegrityError:  # created by a concurrent request: that one is the profile
        concurrent = get_profile(session, user_id=user_id)
        assert concurrent is not None
        return concurrent
    return profile


def set_anchor_day(session: Session, *, user_id: int, anchor_day: int) -> BillingProfile:
    """Change the day of the month on which the customer's subscriptions renew (1-28)."""
    profile = ensure_profile(session, user_id=user_id)
    profile.anchor_day = validate_anchor_day(anchor_day)
    session.add(profile)
    session.commit()
    return profile
