"""Charging many invoices at once, so a billing run can use the gateways' rate (Stripe allows
25 requests a second in test mode, each charge waits on the network most of its time).

A bounded thread pool (`EZSCALE_CHARGE_WORKERS`, 8 by default) whose size never exceeds what
the tenant database's connection pool can give besides the run's own connection: more workers
than connections would wait for one or, with a pool that grows, exhaust the server's
connections. Each worker charges in a session of its own; the per-invoice lock and the numbered
attempts of `payments.charge_invoice` keep every invoice charged once, whichever worker (or
other run) reaches it.
"""

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from ezscale.settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def pool_capacity(engine: Engine) -> int | None:
    """How many connections the engine's pool gives at most (None: not bounded by a pool)."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        overflow = pool._max_overflow  # QueuePool has no public accessor
        return None if overflow < 0 else pool.size() + overflow
    return None


def worker_count(engine: Engine, wanted: int | None = None) -> int:
    """The pool size for charging: `wanted` (the setting by default), at most the connections
    the database pool has left beside the run's own, at least 1."""
    wanted = get_settings().charge_workers if wanted is None else wanted
    capacity = pool_capacity(engine)
    if capacity is not None and wanted > capacity - 1:
        log.info("charge workers capped at %d by the database pool (%d asked)", capacity - 1, wanted)
        wanted = capacity - 1
    return max(wanted, 1)


def charge_each(
    session: Session, ids: Iterable[int], charge: Callable[[Session, int], T], *, workers: int | None = None
) -> list[T]:
    """`charge(session, id)` for every id, by up to `worker_count` threads, each in its own
    session on the same database as `session`; the results in the order of `ids`. With one
    worker, in `session` itself."""
    ids = list(ids)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    count = min(worker_count(engine, workers), len(ids))
    if count <= 1:
        return [charge(session, invoice_id) for invoice_id in ids]
    info = dict(session.info)

    def one(invoice_id: int) -> T:
        with Session(engine, expire_on_commit=False, info=info) as own:
            return charge(own, invoice_id)

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="charge") as pool:
        return list(pool.map(one, ids))
