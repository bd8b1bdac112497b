"""Row locks for money decisions: lock, then read fresh, then decide, then commit.

PostgreSQL locks the row (`SELECT … FOR UPDATE`). SQLite has no row locks: the transaction is
started with `BEGIN IMMEDIATE`, which takes the database's write lock at once (waiting up to the
busy timeout), so no other writer can change anything until the caller commits or rolls back.
"""

from typing import TypeVar

from sqlmodel import Session, SQLModel

Row = TypeVar("Row", bound=SQLModel)


def lock_row(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row, locked until the caller's transaction ends, with every attribute read fresh.

    On SQLite, work the caller already wrote in this transaction stays in it (it holds the write
    lock already); call this before any write to get the lock first. Unflushed changes to this
    very row are replaced by the fresh read, so lock a row before changing it."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return session.get(model, row_id, populate_existing=True)
    return session.get(model, row_id, with_for_update=True, populate_existing=True)
