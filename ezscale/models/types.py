"""Column types shared by both schemas."""

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field


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


def utc_field(*, nullable: bool = False, index: bool = False):
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def enum_field(enum: type[StrEnum], default: StrEnum, *, index: bool = False):
    """Store enums as their string values (portable, readable in SQL)."""
    return Field(
        default=default,
        sa_column=sa.Column(
            sa.Enum(enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
            nullable=False,
            index=index,
        ),
    )
