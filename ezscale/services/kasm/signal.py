"""Tell live dashboards, the moment it is committed, that a customer's workspaces changed.

With Redis configured, every commit that writes a workspace or a notice publishes one message per
row on `CHANNEL` — `<tenant database> <user id> <row key> <changed at>` — from whichever process
wrote it (Celery worker or web backend). The backend's live-dashboard task subscribes and pushes at
once; its slower `changed_at` poll stays as the fallback (and is the only path without Redis).
Publishing is best effort: a failed publish is logged and the poll still finds the change.
Processes that write workspaces call `install()` at start (ezscale/app.py, the worker).
"""

import logging
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

import redis
import sqlalchemy as sa
from sqlalchemy.orm import SessionTransaction, UOWTransaction
from sqlmodel import Session

from ezscale.models.kasm import KasmNotice, KasmWorkspace
from ezscale.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL = "ezscale:kasm-live"
_PENDING = "kasm_signal_pending"


class Change(NamedTuple):
    """One committed workspace change, as sent to live dashboards."""

    database: str
    user_id: int
    key: str
    at: datetime

    def encode(self) -> str:
        """The change as one line of text for the Redis channel."""
        return f"{self.database} {self.user_id} {self.key} {self.at.isoformat()}"

    @classmethod
    def decode(cls, text: str) -> "Change | None":
        """Read a change back from its text; None for a malformed message."""
        try:
            database, user_id, key, at = text.split(" ")
            return cls(database, int(user_id), key, datetime.fromisoformat(at))
        except ValueError:
            return None


@lru_cache(maxsize=1)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _collect(session: Session, _context: UOWTransaction) -> None:
    """Workspaces whose `changed_at` moved and new notices, in this flush (ids are known here).
    Nothing to do without Redis, or outside a tenant session (billing runs flush often)."""
    database = session.info.get("tenant_database")
    if database is None or not get_settings().redis_url:
        return
    pending = session.info.setdefault(_PENDING, [])
    for row in (*session.new, *session.dirty):
        if isinstance(row, KasmWorkspace) and sa.inspect(row).attrs.changed_at.history.has_changes():
            pending.append(Change(database, row.user_id, f"w{row.id}", row.changed_at))
        elif isinstance(row, KasmNotice) and row in session.new:
            pending.append(Change(database, row.user_id, f"n{row.id}", row.created_at))


def _publish(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    url = get_settings().redis_url
    if not pending or not url:
        return
    try:
        pipe = _client(url).pipeline(transaction=False)
        for change in dict.fromkeys(pending):
            pipe.publish(CHANNEL, change.encode())
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("kasm live signal not published (%s); dashboards fall back to polling", exc)


def _discard(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_PENDING, None)


# `after_flush` sees the flushed rows with their ids and change history; only what is committed
# is announced.
LISTENERS = (("after_flush", _collect), ("after_commit", _publish), ("after_soft_rollback", _discard))


def install() -> None:
    """Announce this process's committed changes; the web app and the Celery worker call this at
    start. Installing twice changes nothing."""
    for event, listener in LISTENERS:
        if not sa.event.contains(Session, event, listener):
            sa.event.listen(Session, event, listener)


def installed() -> bool:
    """Whether the change listeners are on the SQLAlchemy Session class."""
    return all(sa.event.contains(Session, event, listener) for event, listener in LISTENERS)
