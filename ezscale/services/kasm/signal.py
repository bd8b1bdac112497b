"""Tell live dashboards, the moment it is committed, that a customer's workspaces changed.

Every commit of a tenant session that moves a workspace's `changed_at` or adds a notice announces
one `Change` per row — `<tenant database> <user id> <row key> <changed at>` — right after the
commit, from whichever process wrote it (Celery worker, web backend, a script), on the one path
the deployment has:

- Redis configured: published on the pub/sub `CHANNEL`;
- PostgreSQL without Redis: `NOTIFY` on `PG_CHANNEL` in the central database (a tenant's own
  database has no listener; each web backend process LISTENs on one central connection);
- SQLite without Redis (the embedded default): datagrams (one line per change) on the web backend's Unix
  socket (`Settings.live_socket_path`), sent without waiting: with no backend listening, or one
  that is behind, the datagram is dropped and the writer goes on.

Announcing is best effort and never fails a writer: a lost announcement is logged (a dropped
datagram silently) and the backend's slow safety poll (`state/kasm_live.py`) finds the change.
`signal_listen.py` is the receiving side. Processes that write workspaces call `install()` at
start (ezscale/app.py, the Celery worker).
"""

import atexit
import logging
import os
import queue
import re
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import suppress
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import psycopg
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import SessionTransaction, UOWTransaction
from sqlmodel import Session

from ezscale.models.kasm import KasmNotice, KasmWorkspace
from ezscale.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL = "ezscale:kasm-live"  # Redis pub/sub
PG_CHANNEL = "ezscale_kasm_live"  # PostgreSQL LISTEN/NOTIFY, in the central database
_PENDING = "kasm_signal_pending"
DATAGRAM_BYTES = 4096  # the largest datagram a backend reads (several changes, one per line)
_ROW_KEY = re.compile(r"[wn][1-9][0-9]{0,17}")


class Change(NamedTuple):
    """One committed workspace change (`w<id>`) or new notice (`n<id>`), as sent to dashboards."""

    database: str
    user_id: int
    key: str
    at: datetime

    def encode(self) -> str:
        """The change as one line of text (a Redis message, NOTIFY payload or datagram)."""
        return f"{self.database} {self.user_id} {self.key} {self.at.isoformat()}"

    @classmethod
    def decode(cls, text: str | bytes) -> "Change | None":
        """Read a change back from its text; None for anything malformed (never raises)."""
        try:
            database, user_id, key, at = (text.decode() if isinstance(text, bytes) else text).split(" ")
            change = cls(database, int(user_id), key, datetime.fromisoformat(at))
        except ValueError:  # wrong field count, not a number or time, not UTF-8
            return None
        if not database or change.user_id <= 0 or not _ROW_KEY.fullmatch(key) or change.at.tzinfo is None:
            return None
        return change


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg itself takes it (no `+psycopg` driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@lru_cache(maxsize=1)
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _publish_redis(url: str, changes: Sequence[Change]) -> None:
    pipe = _redis_client(url).pipeline(transaction=False)
    for change in changes:
        pipe.publish(CHANNEL, change.encode())
    pipe.execute()


class _Notifier:
    """This process's one autocommit connection to the central database, for NOTIFY.

    Kept per process id: a forked worker opens its own and leaves the parent's untouched."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections: dict[int, tuple[str, psycopg.Connection]] = {}

    def notify(self, url: str, changes: Sequence[Change]) -> None:
        pid = os.getpid()
        with self.lock:
            held = self.connections.get(pid)
            if held is None or held[0] != url or held[1].closed:
                if held is not None:
                    held[1].close()
                conn = psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=2)
                held = self.connections[pid] = (url, conn)
            try:
                held[1].execute(
                    "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p",
                    (PG_CHANNEL, [change.encode() for change in changes]),
                )
            except psycopg.Error:
                held[1].close()
                raise


_notifier = _Notifier()


def _datagrams(changes: Sequence[Change]) -> Iterator[bytes]:
    """The changes as few datagrams as fit, one change per line: a commit that changes many
    workspaces sends a handful, not one each."""
    batch = b""
    for change in changes:
        line = change.encode().encode()
        if batch and len(batch) + 1 + len(line) > DATAGRAM_BYTES:
            yield batch
            batch = b""
        batch = batch + b"\n" + line if batch else line
    if batch:
        yield batch


class _Datagrams:
    """Sends datagrams to the backend without ever making the writer wait.

    The kernel queues only ~10 datagrams per socket (`net.unix.max_dgram_qlen`); when a busy
    backend has not read them yet, the rest go to this process's sender thread, which waits up
    to `LATE_SECONDS` for room (and, at exit, up to that long to finish) before dropping them."""

    LATE_SECONDS = 1.0

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.late: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=10_000)
        self.thread: threading.Thread | None = None

    def send(self, path: Path, changes: Sequence[Change]) -> None:
        if self.pid != os.getpid():  # first use, or a forked child: its own socket and thread
            with self.lock:
                self.pid, self.thread = os.getpid(), None
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self.sock.setblocking(False)
                self.late = queue.Queue(maxsize=10_000)
        pending = list(_datagrams(changes))
        for n, datagram in enumerate(pending):
            try:
                self.sock.sendto(datagram, str(path))
            except (FileNotFoundError, ConnectionRefusedError):
                return  # no backend listening: the safety poll of the next one finds the change
            except BlockingIOError:
                self._later(str(path), pending[n:])
                return

    def _later(self, path: str, datagrams: list[bytes]) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, args=(self.late,), name="kasm-live", daemon=True
                )
                self.thread.start()
                atexit.register(self._finish, self.late, self.thread)
        for datagram in datagrams:
            with suppress(queue.Full):
                self.late.put_nowait((path, datagram))

    def _run(self, late: "queue.Queue[tuple[str, bytes] | None]") -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.settimeout(self.LATE_SECONDS)
            while (item := late.get()) is not None:
                with suppress(OSError):  # gone, or still full after a second: the safety poll
                    sock.sendto(item[1], item[0])

    def _finish(self, late: "queue.Queue[tuple[str, bytes] | None]", thread: threading.Thread) -> None:
        with suppress(queue.Full):
            late.put_nowait(None)
        thread.join(self.LATE_SECONDS)


_datagram_sender = _Datagrams()


def send(changes: Sequence[Change]) -> None:
    """Announce committed changes on the deployment's path; logs and returns on any failure."""
    settings = get_settings()
    try:
        if settings.redis_url:
            _publish_redis(settings.redis_url, changes)
        elif settings.is_postgres:
            _notifier.notify(settings.central_url, changes)
        else:
            _datagram_sender.send(settings.live_socket_path, changes)
    except (redis.RedisError, psycopg.Error, OSError) as exc:
        log.warning("kasm live signal not sent (%s); dashboards catch up by their safety poll", exc)


def _collect(session: Session, _context: UOWTransaction) -> None:
    """Workspaces whose `changed_at` moved and new notices, in this flush (ids are known here).
    Nothing to do outside a tenant session (billing runs on the central database flush often)."""
    database = session.info.get("tenant_database")
    if database is None:
        return
    pending = session.info.setdefault(_PENDING, [])
    for row in (*session.new, *session.dirty):
        if isinstance(row, KasmWorkspace) and sa.inspect(row).attrs.changed_at.history.has_changes():
            pending.append(Change(database, row.user_id, f"w{row.id}", row.changed_at))
        elif isinstance(row, KasmNotice) and row in session.new:
            pending.append(Change(database, row.user_id, f"n{row.id}", row.created_at))


def _announce(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        send(list(dict.fromkeys(pending)))


def _discard(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_PENDING, None)


# `after_flush` sees the flushed rows with their ids and change history; only what is committed
# is announced.
LISTENERS = (("after_flush", _collect), ("after_commit", _announce), ("after_soft_rollback", _discard))


def install() -> None:
    """Announce this process's committed changes; the web app and the Celery worker call this at
    start. Installing twice changes nothing."""
    for event, listener in LISTENERS:
        if not sa.event.contains(Session, event, listener):
            sa.event.listen(Session, event, listener)


def installed() -> bool:
    """Whether the change listeners are on the SQLAlchemy Session class."""
    return all(sa.event.contains(Session, event, listener) for event, listener in LISTENERS)
