"""The receiving side of the live change signal (`signal.py`): a web backend process hears every
committed workspace change of its deployment as it is announced.

One listener per backend process, on the deployment's path: Redis pub/sub when Redis is
configured; otherwise one `LISTEN` connection to the central PostgreSQL database (psycopg's async
`notifies()`), or on SQLite the Unix datagram socket at `Settings.live_socket_path`, bound here.
Malformed messages are dropped; a lost connection is re-established after `RETRY_SECONDS` (what
was announced meanwhile is found by the backend's safety poll).
"""

import asyncio
import logging
import socket
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, suppress
from pathlib import Path

import psycopg
import redis
import redis.asyncio as aioredis

from ezscale.services.kasm.signal import CHANNEL, DATAGRAM_BYTES, PG_CHANNEL, Change, libpq_url
from ezscale.settings import get_settings

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
_QUEUED = 100_000  # beyond this many unread changes, more are dropped (the safety poll has them)


def _someone_listens(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
    return True


def bind_listener(path: Path) -> socket.socket:
    """Bind the backend's datagram socket at `path`, replacing a stale one a stopped backend left.

    Raises:
        OSError: another live process is bound there, or the path is too long for a socket.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and _someone_listens(path):
        raise OSError(f"another process already listens on {path}")
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def _drain(
    sock: socket.socket, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue, stop: threading.Event
) -> None:
    """Read datagrams as they come, on a thread of their own: the kernel queues only a few per
    socket (`net.unix.max_dgram_qlen`, often 10) and refuses the rest, so they are taken off at
    once even while the event loop is busy pushing."""

    def put(data: bytes) -> None:
        with suppress(asyncio.QueueFull):
            queue.put_nowait(data)

    while not stop.is_set():
        try:
            data = sock.recv(DATAGRAM_BYTES)
        except TimeoutError:
            continue
        except OSError:
            return
        try:
            loop.call_soon_threadsafe(put, data)
        except RuntimeError:  # the loop is closed
            return


async def _datagrams(path: Path, ready: asyncio.Event) -> AsyncGenerator[bytes, None]:
    warned = False
    while True:
        try:
            sock = bind_listener(path)
        except OSError as exc:
            if not warned:
                log.warning("kasm live socket not bound (%s); dashboards rely on the safety poll", exc)
                warned = True
            await asyncio.sleep(RETRY_SECONDS * 5)
            continue
        inode = path.stat().st_ino
        sock.settimeout(RETRY_SECONDS)
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_QUEUED)
        stop = threading.Event()
        reader = threading.Thread(
            target=_drain, args=(sock, asyncio.get_running_loop(), queue, stop), name="kasm-live", daemon=True
        )
        reader.start()
        ready.set()
        try:
            while True:
                for line in (await queue.get()).split(b"\n"):
                    yield line
        finally:
            stop.set()
            await asyncio.to_thread(reader.join)
            sock.close()
            try:
                if path.stat().st_ino == inode:  # still ours, not a successor's
                    path.unlink()
            except FileNotFoundError:
                pass


async def _postgres(url: str, ready: asyncio.Event) -> AsyncGenerator[str, None]:
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
                await conn.execute(f"LISTEN {PG_CHANNEL}")
                ready.set()
                async for notify in conn.notifies():
                    yield notify.payload
        except psycopg.Error as exc:
            log.warning("kasm live LISTEN connection lost (%s); reconnecting", exc)
            await asyncio.sleep(RETRY_SECONDS)


async def _redis(url: str, ready: asyncio.Event) -> AsyncGenerator[bytes, None]:
    while True:
        client = aioredis.Redis.from_url(url)
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(CHANNEL)
                ready.set()
                async for message in pubsub.listen():
                    yield message["data"]
        except (redis.RedisError, OSError) as exc:
            log.warning("kasm live subscription lost (%s); resubscribing", exc)
            await asyncio.sleep(RETRY_SECONDS)
        finally:
            await client.aclose()


async def changes(ready: asyncio.Event | None = None) -> AsyncIterator[Change]:
    """Every change announced from now on, as it arrives (runs until cancelled).

    Args:
        ready: set once the listener is bound or subscribed (announcements before are missed).
    """
    ready = ready or asyncio.Event()
    settings = get_settings()
    messages: AsyncGenerator[str | bytes, None]
    if settings.redis_url:
        messages = _redis(settings.redis_url, ready)
    elif settings.is_postgres:
        messages = _postgres(settings.central_url, ready)
    else:
        messages = _datagrams(settings.live_socket_path, ready)
    async with aclosing(messages):
        async for message in messages:
            change = Change.decode(message)
            if change is None:
                log.debug("ignored a malformed kasm live signal: %r", message[:200])
            else:
                yield change
