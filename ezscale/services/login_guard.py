"""Login history and the rate limits built on it: per account and per IP, with a clear wait time.

Failures are counted in a sliding window (EZSCALE_LOGIN_LOCKOUT_MINUTES); an account's count
restarts after its last successful sign-in. The same rules serve tenant users (login_events)
and platform admins (admin_login_events).
"""

import math
from datetime import timedelta

from sqlmodel import Session, col, func, select

from ezscale import clock
from ezscale.models.auth import AdminLoginEvent, LoginEvent
from ezscale.services.errors import DomainError
from ezscale.settings import get_settings

EventModel = type[LoginEvent] | type[AdminLoginEvent]


class LockedOut(DomainError):
    pass


def record_login(
    session: Session,
    model: EventModel,
    *,
    email: str,
    success: bool,
    method: str,
    account_id: int | None = None,
    ip: str = "",
    user_agent: str = "",
    reason: str = "",
) -> None:
    fields = dict(
        email=email[:254],
        ip=ip[:45],
        user_agent=user_agent[:300],
        method=method,
        success=success,
        reason=reason,
        created_at=clock.now(),
    )
    fields["admin_id" if model is AdminLoginEvent else "user_id"] = account_id
    session.add(model(**fields))
    session.commit()


def _wait_minutes(session: Session, model: EventModel, *conditions, limit: int) -> int:
    """Minutes until the oldest counted failure leaves the window, or 0 when under the limit."""
    window = timedelta(minutes=get_settings().login_lockout_minutes)
    now = clock.now()
    failures = session.exec(
        select(model.created_at)
        .where(*conditions, model.success == False, model.created_at > now - window)  # noqa: E712
        .order_by(col(model.created_at).desc())
        .limit(limit)
    ).all()
    if len(failures) < limit:
        return 0
    return max(1, math.ceil((failures[-1] + window - now).total_seconds() / 60))


def check_not_locked(session: Session, model: EventModel, *, email: str | None, ip: str) -> None:
    """Refuse before checking any password when the account or the IP has failed too often
    (email None: a passkey sign-in, where only the IP is known)."""
    settings = get_settings()
    wait = 0
    if email is not None:
        last_success = session.exec(
            select(func.max(model.created_at)).where(model.email == email, model.success == True)  # noqa: E712
        ).one()
        account = [model.email == email]
        if last_success is not None:
            account.append(model.created_at > last_success)
        wait = _wait_minutes(session, model, *account, limit=settings.login_max_failures_per_account)
    if ip:
        wait = max(
            wait, _wait_minutes(session, model, model.ip == ip, limit=settings.login_max_failures_per_ip)
        )
    if wait:
        raise LockedOut(
            f"Too many failed sign-in attempts. Please wait {wait} minute{'s' if wait > 1 else ''} "
            "and try again, or reset your password."
        )


def history(session: Session, model: EventModel, *, account_id: int | None = None, limit: int = 50):
    query = select(model).order_by(col(model.id).desc()).limit(limit)
    if account_id is not None:
        owner = model.admin_id if model is AdminLoginEvent else model.user_id
        query = query.where(owner == account_id)
    return list(session.exec(query))
