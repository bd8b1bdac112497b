"""Session hand-offs: how a session token reaches the browser as an HttpOnly cookie.

A page event (sign-in) or an admin action (impersonation) opens the session, then gives the
browser only a one-time code; the browser posts to `/auth/handoff?code=…` from the page (or
opens `/impersonate?token=…`) on the tenant's host, whose HTTP response sets the cookie. A code
works once, for one tenant, for HANDOFF_TTL; only its hash is stored and the waiting session
token is wiped when it is used.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, delete, select, update

from ezscale import clock
from ezscale.db import central_session
from ezscale.models.auth import SessionHandoff

HANDOFF_TTL = timedelta(seconds=60)
KEEP_USED = timedelta(days=1)  # then the rows go


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claimed sign-in hand-off yields: the session to set, for whom, and where to go next."""

    session_token: str
    email: str
    next_path: str


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def issue(*, tenant_id: int, purpose: str, session_token: str, email: str = "", next_path: str = "/") -> str:
    """Park a session token behind a new one-time code; returns the code."""
    code, now = secrets.token_urlsafe(32), clock.now()
    with central_session() as session:
        session.exec(delete(SessionHandoff).where(col(SessionHandoff.expires_at) < now - KEEP_USED))
        session.add(
            SessionHandoff(
                token_hash=_hash(code),
                tenant_id=tenant_id,
                purpose=purpose,
                email=email[:254],
                session_token=session_token,
                next_path=next_path[:300],
                created_at=now,
                expires_at=now + HANDOFF_TTL,
            )
        )
        session.commit()
    return code


def claim(*, tenant_id: int, purpose: str, code: str) -> Claimed | None:
    """Use a code (once, before it expires, on its own tenant's host); None when it is not valid."""
    if not code:
        return None
    now = clock.now()
    with central_session() as session:
        row = session.exec(select(SessionHandoff).where(SessionHandoff.token_hash == _hash(code))).first()
        if row is None or row.tenant_id != tenant_id or row.purpose != purpose:
            return None
        claimed = Claimed(row.session_token, row.email, row.next_path)
        won = session.exec(
            update(SessionHandoff)
            .where(
                col(SessionHandoff.id) == row.id,
                col(SessionHandoff.used_at).is_(None),
                col(SessionHandoff.expires_at) > now,
            )
            .values(used_at=now, session_token="")
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    return claimed if won == 1 else None
