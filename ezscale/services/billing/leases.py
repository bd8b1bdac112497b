"""Leases for billing runs: one run of a kind per tenant at a time.

Celery redelivers a long run while it is still running (acks_late), a second beat may fire, an
admin may start a cycle by hand: such a second run finds the lease held and exits. The holder
renews the lease as it works; if it dies, the lease expires after `LEASE` and the next run takes
over (charging stays safe meanwhile: every invoice attempt is claimed on its own).
"""

import logging
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ezscale import clock
from ezscale.models.billing import BillingLease

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)


class LeaseLost(RuntimeError):
    """The run outlived its lease and another run took over; this one stops."""


@dataclass
class Lease:
    """A held lease: its name, who holds it, and when it lapses unless renewed."""

    name: str
    holder: str
    expires_at: datetime


def acquire(session: Session, *, name: str) -> Lease | None:
    """Take the lease if it is free or expired (committed); None while another run holds it."""
    if session.exec(select(BillingLease.id).where(BillingLease.name == name)).first() is None:
        try:
            session.add(BillingLease(name=name, holder="", expires_at=clock.now()))
            session.commit()
        except IntegrityError:
            session.rollback()  # created by a concurrent run
    now = clock.now()
    lease = Lease(name, f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}", now + LEASE)
    taken = session.exec(
        update(BillingLease)
        .where(
            col(BillingLease.name) == name,
            or_(col(BillingLease.holder) == "", col(BillingLease.expires_at) <= now),
        )
        .values(holder=lease.holder, expires_at=lease.expires_at)
    ).rowcount
    session.commit()
    return lease if taken else None


def renew(session: Session, lease: Lease) -> None:
    """Extend the lease once half of it is used (call between transactions: it commits)."""
    now = clock.now()
    if lease.expires_at - now > LEASE / 2:
        return
    kept = session.exec(
        update(BillingLease)
        .where(col(BillingLease.name) == lease.name, col(BillingLease.holder) == lease.holder)
        .values(expires_at=now + LEASE)
    ).rowcount
    session.commit()
    if not kept:
        raise LeaseLost(f"billing run lease {lease.name} was taken over")
    lease.expires_at = now + LEASE


def release(session: Session, lease: Lease) -> None:
    """Give the lease up at once, only if this holder still holds it."""
    session.execute(
        update(BillingLease)
        .where(col(BillingLease.name) == lease.name, col(BillingLease.holder) == lease.holder)
        .values(holder="", expires_at=clock.now())
    )
    session.commit()


@contextmanager
def held(session: Session, *, name: str) -> Iterator[Lease | None]:
    """The lease for the block (None if another run holds it), given back after it."""
    lease = acquire(session, name=name)
    if lease is None:
        log.info("billing run %s: another run holds the lease; exiting", name)
        yield None
        return
    try:
        yield lease
    finally:
        session.rollback()
        release(session, lease)
