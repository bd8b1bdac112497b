"""Login history and the throttling built on it: per account and per IP, with progressive delays.

Failures are counted in a sliding window (EZSCALE_LOGIN_LOCKOUT_MINUTES); an account's count
restarts after its last successful sign-in. Past the limit, each attempt must wait twice as long
after the latest failure as the one before (EZSCALE_LOGIN_DELAY_SECONDS, capped at the window),
so guessing slows to a crawl while a hard lockout of the whole tenant (everyone behind one proxy
IP) or of a known user is impossible: a browser that signed in to the account before (its
known-device cookie) is not throttled, until it fails too often itself. The same rules serve
tenant users (login_events) and platform admins (admin_login_events).
"""

import hashlib
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, delete, func, select

from ezscale import clock
from ezscale.db import central_session
from ezscale.errors import DomainError
from ezscale.models.auth import AdminLoginEvent, KnownDevice, LoginEvent, LoginEventBase
from ezscale.settings import get_settings

EventModel = type[LoginEvent] | type[AdminLoginEvent]
# Enough recent failures to reach the longest delay (2**16 times the base).
_COUNTED = 16
# A browser unused this long is a stranger again (its cookie lasts as long).
DEVICE_MEMORY = timedelta(days=365)


class LockedOut(DomainError):
    """Too many failed sign-ins: the account or address must wait before the next try."""


@lru_cache(maxsize=8)
def _trusted_networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()
    )


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(peer: str, forwarded_for: str = "") -> str:
    """The client's IP: the TCP peer, unless the peer is a trusted proxy (EZSCALE_TRUSTED_PROXIES);
    then the right-most X-Forwarded-For entry that is not itself a trusted proxy."""
    networks = _trusted_networks(get_settings().trusted_proxies)

    def trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in networks)

    if not trusted(_ip(peer)):
        return peer
    for hop in reversed(forwarded_for.split(",")):
        address = _ip(hop)
        if address is None:
            return peer  # a malformed chain: believe nothing in it
        if not trusted(address):
            return str(address)
    return peer


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
    """Record one sign-in attempt (successful or not) in the login history."""
    event = model(
        email=email[:254],
        ip=ip[:45],
        user_agent=user_agent[:300],
        method=method,
        success=success,
        reason=reason,
        created_at=clock.now(),
    )
    if isinstance(event, AdminLoginEvent):
        event.admin_id = account_id
    else:
        event.user_id = account_id
    session.add(event)
    session.commit()


def _wait_seconds(session: Session, model: EventModel, *conditions: ColumnElement[bool], limit: int) -> int:
    """Seconds until the next attempt is allowed, or 0 when under the limit."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_lockout_minutes)
    now = clock.now()
    failures = session.exec(
        select(model.created_at)
        .where(*conditions, model.success == False, model.created_at > now - window)  # noqa: E712
        .order_by(col(model.created_at).desc())
        .limit(limit + _COUNTED)
    ).all()
    if len(failures) < limit:
        return 0
    delay = min(settings.login_delay_seconds * 2 ** (len(failures) - limit), window.total_seconds())
    return max(0, math.ceil((failures[0] + timedelta(seconds=delay) - now).total_seconds()))


def _say(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds > 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def check_not_locked(
    session: Session, model: EventModel, *, email: str | None, ip: str, known_device: bool = False
) -> None:
    """Refuse before checking any password while the account or the IP must wait (email None: a
    passkey sign-in, where only the IP is known). A known device of the account never waits."""
    if known_device:
        return
    settings = get_settings()
    wait = 0
    if email is not None:
        last_success = session.exec(
            select(func.max(model.created_at)).where(model.email == email, model.success == True)  # noqa: E712
        ).one()
        account = [col(model.email) == email]
        if last_success is not None:
            account.append(col(model.created_at) > last_success)
        wait = _wait_seconds(session, model, *account, limit=settings.login_max_failures_per_account)
    if ip:
        wait = max(
            wait, _wait_seconds(session, model, col(model.ip) == ip, limit=settings.login_max_failures_per_ip)
        )
    if wait:
        raise LockedOut(
            f"Too many failed sign-in attempts. Please wait {_say(wait)} and try again, "
            "or reset your password."
        )


def _device_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _device(session: Session, token: str, email: str) -> KnownDevice | None:
    if not token or not email:
        return None
    return session.exec(
        select(KnownDevice).where(KnownDevice.token_hash == _device_hash(token), KnownDevice.email == email)
    ).first()


def is_known_device(*, email: str, token: str) -> bool:
    """Whether this browser signed in to `email` before and has not failed too often since."""
    with central_session() as session:
        device = _device(session, token, email)
        return device is not None and device.failures < get_settings().login_max_failures_per_account


def device_failed(*, email: str, token: str) -> None:
    """Count a failed code entry against this browser's remembered device."""
    with central_session() as session:
        if (device := _device(session, token, email)) is not None:
            device.failures += 1
            session.add(device)
            session.commit()


def remember_device(*, email: str, token: str = "") -> str:
    """After a sign-in: refresh this browser's device token for the account, or issue one.
    Returns the token for the (HttpOnly) cookie."""
    now = clock.now()
    with central_session() as session:
        session.exec(delete(KnownDevice).where(col(KnownDevice.last_used_at) < now - DEVICE_MEMORY))
        device = _device(session, token, email)
        if device is None:
            token = secrets.token_urlsafe(32)
            device = KnownDevice(
                token_hash=_device_hash(token), email=email, created_at=now, last_used_at=now
            )
        device.failures, device.last_used_at = 0, now
        session.add(device)
        session.commit()
    return token


@dataclass(frozen=True, slots=True)
class SignInRow:
    """A sign-in attempt as the account page's history shows it."""

    at: str
    ip: str
    agent: str
    method: str
    result: str  # "success" or "failed"


def own_history(session: Session, *, user_id: int, limit: int = 20) -> list[SignInRow]:
    """A customer's newest sign-in attempts, as their account page lists them."""
    return [
        SignInRow(
            at=e.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            ip=e.ip,
            agent=e.user_agent[:60],
            method=e.method,
            result="success" if e.success else "failed",
        )
        for e in history(session, LoginEvent, account_id=user_id, limit=limit)
    ]


def history(
    session: Session, model: EventModel, *, account_id: int | None = None, limit: int = 50
) -> list[LoginEventBase]:
    """The newest sign-in attempts, of one account or of all."""
    query = select(model).order_by(col(model.id).desc()).limit(limit)
    if account_id is not None:
        owner = AdminLoginEvent.admin_id if model is AdminLoginEvent else LoginEvent.user_id
        query = query.where(col(owner) == account_id)
    return list(session.exec(query))
