"""Counters for actions that cost the platform or a third party (sign-ups, mailed links), per
client IP and per address, in a sliding window kept in the central database (no Redis needed)."""

from datetime import timedelta

from sqlmodel import col, delete, func, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.auth import RateLimitHit
from ezscale.settings import get_settings

WINDOW = timedelta(hours=1)
TOO_MANY = "Too many requests from your network. Please try again later."


def hit(*, key: str, limit: int) -> bool:
    """Count one action under `key`; False (and nothing counted) once `limit` are in the window."""
    key, now = key[:300], clock.now()
    with central_session() as session:
        session.exec(delete(RateLimitHit).where(col(RateLimitHit.created_at) <= now - WINDOW))
        used = session.exec(select(func.count()).where(RateLimitHit.key == key)).one()
        if used >= limit:
            session.commit()
            return False
        session.add(RateLimitHit(key=key, created_at=now))
        session.commit()
        return True


def check_ip(*, action: str, ip: str) -> None:
    """Refuse the request when this IP has done `action` too often (the answer names no address)."""
    if ip and not hit(key=f"{action}-ip:{ip}", limit=get_settings().mail_limit_per_ip):
        raise DomainError(TOO_MANY)


def may_mail(*, tenant_id: int, address: str) -> bool:
    """Whether one more mail may go to this address (silently skipped otherwise, so the answer
    still does not tell whether an account exists)."""
    return hit(key=f"mail-to:{tenant_id}:{address}", limit=get_settings().mail_limit_per_address)
