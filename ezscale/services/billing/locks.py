"""Locks for money: `SELECT … FOR UPDATE` on PostgreSQL, the database's write lock on SQLite.

SQLite has no row locks, and its driver opens a transaction only at the first write, so what is
read before that write may be changed by another process before ours commits. `write_lock`
opens the transaction with BEGIN IMMEDIATE instead: the reads that follow are current and stay
so until commit. Order when taking several: invoices (by id), then customers' billing profiles.
"""

from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from ezscale.models.tenant import Invoice
from ezscale.models.types import existing

Row = TypeVar("Row", bound=SQLModel)


def write_lock(session: Session) -> None:
    """On SQLite, hold the database's write lock from now to the end of the transaction."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection  # the sqlite3 connection, present while checked out
    assert driver is not None
    if not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_invoices(session: Session, *conditions: ColumnElement[bool]) -> list[Invoice]:
    """The invoices matching `conditions`, locked and read fresh (identity-map objects refreshed)."""
    write_lock(session)
    query = (
        select(Invoice)
        .where(*conditions)
        .order_by(col(Invoice.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.exec(query))


def lock_row(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row, locked until the caller's transaction ends, with every attribute read fresh
    (None when there is none).

    On SQLite, work the caller already wrote in this transaction stays in it (it holds the write
    lock already); call this before any write to get the lock first. Unflushed changes to this
    very row are replaced by the fresh read, so lock a row before changing it."""
    write_lock(session)
    return session.get(model, row_id, with_for_update=True, populate_existing=True)


def lock_held(session: Session, model: type[Row], row_id: int | None) -> Row:
    """`lock_row` for a row the caller holds (or one its foreign key names): it must exist."""
    write_lock(session)
    return existing(session, model, row_id, with_for_update=True, populate_existing=True)


def lock_invoice(session: Session, invoice_id: int) -> Invoice | None:
    """The invoice, locked and read fresh (see `lock_row`), or None when there is none."""
    write_lock(session)
    return session.get(Invoice, invoice_id, with_for_update=True, populate_existing=True)
