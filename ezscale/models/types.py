"""Column types shared by both schemas."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Field, Session, SQLModel, col


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware datetimes on every backend: stored as UTC, returned with tzinfo=UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Both helpers give a column *type* (`sa_type`), not a Column object: a Column belongs to one
# table, while a type can be declared once on a non-table base and shared by twin tables.


def utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware UTC datetime column."""
    return Field(sa_type=UTCDateTime(), nullable=nullable, index=index)


def enum_field(enum: type[StrEnum], default: StrEnum, *, index: bool = False) -> Any:
    """Store enums as their string values (portable, readable in SQL)."""
    return Field(
        default=default,
        sa_type=sa.Enum(enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
        index=index,
    )


M = TypeVar("M", bound=SQLModel)


class _Persisted(Protocol):
    @property
    def id(self) -> int | None: ...


def row_id(row: _Persisted) -> int:
    """The primary key of a row that has been flushed: for code that holds a persisted row."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet: it was not flushed")
    return row.id


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a table model, for Core statements (SQLModel does not declare
    `__table__` to type checkers)."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


def existing(session: Session, model: type[M], key: object, **options: Any) -> M:
    """`session.get` for a row that must exist (the target of a foreign key the caller holds)."""
    row = session.get(model, key, **options)
    if row is None:
        raise RuntimeError(f"{model.__name__} {key} is gone")
    return row


def pk(column: int | None) -> Mapped[int]:
    """A primary-key column (`Model.id`, typed optional for unsaved rows) as the integer it always
    is in a query: `select(pk(Invoice.id))` yields ints."""
    return cast("Mapped[int]", col(column))
