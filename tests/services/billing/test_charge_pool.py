"""The billing run's charge workers: as many as asked, never more than the database pool can
give beside the run's own connection, each in its own session."""

import threading

import sqlalchemy as sa
from sqlmodel import Session

from ezscale.services.billing import charge_pool


def _engine(tmp_path, **pool) -> sa.Engine:
    return sa.create_engine(
        f"sqlite:///{tmp_path / 'pool.sqlite'}",
        connect_args={"check_same_thread": False},
        poolclass=sa.QueuePool,
        pool_timeout=2,
        **pool,
    )


def test_workers_are_capped_to_the_database_pool(tmp_path, monkeypatch):
    small = _engine(tmp_path, pool_size=2, max_overflow=1)
    assert charge_pool.pool_capacity(small) == 3
    assert charge_pool.worker_count(small, 8) == 2  # 3 connections, one is the run's
    assert charge_pool.worker_count(small, 1) == 1
    tiny = _engine(tmp_path, pool_size=1, max_overflow=0)
    assert charge_pool.worker_count(tiny, 8) == 1
    unbounded = sa.create_engine(f"sqlite:///{tmp_path / 'n.sqlite'}", poolclass=sa.NullPool)
    monkeypatch.setenv("EZSCALE_CHARGE_WORKERS", "5")
    from ezscale.settings import get_settings

    get_settings.cache_clear()
    try:
        assert charge_pool.worker_count(unbounded) == 5
        assert charge_pool.worker_count(_engine(tmp_path, pool_size=2, max_overflow=8)) == 5
    finally:
        monkeypatch.delenv("EZSCALE_CHARGE_WORKERS")
        get_settings.cache_clear()


def test_charge_each_uses_own_sessions_and_never_exhausts_the_pool(tmp_path):
    """Ten invoices, eight workers asked, a pool of 3: at most 2 workers hold a connection at once
    while the run holds its own, and nobody times out waiting for one."""
    engine = _engine(tmp_path, pool_size=2, max_overflow=1)
    lock = threading.Lock()
    running, most, sessions = [0], [0], []
    gate = threading.Barrier(2, timeout=5)

    def charge(session: Session, invoice_id: int) -> int:
        session.connection()  # holds a pooled connection, as a charge does
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            sessions.append(session)  # kept: distinct objects
        if invoice_id < 2:
            gate.wait()  # the first two meet: they run at the same time
        with lock:
            running[0] -= 1
        return invoice_id * 10

    with Session(engine) as run:
        run.connection()  # the run's own connection stays checked out
        assert charge_pool.charge_each(run, range(10), charge, workers=8) == [i * 10 for i in range(10)]
    assert most[0] == 2 and len(set(map(id, sessions))) == 10 and run not in sessions
