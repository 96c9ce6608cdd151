"""Column types shared by the tables: timestamps are always timezone-aware UTC; statuses are
StrEnums stored as their strings; `id_of` reads the id of a flushed row."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Column, CursorResult, DateTime, Result
from sqlalchemy.types import TypeDecorator
from sqlmodel import AutoString, Field


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; gives back aware datetimes on SQLite too (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


E = TypeVar("E", bound=StrEnum)


class EnumText(TypeDecorator[E]):
    """A StrEnum stored as its plain string (VARCHAR), given back as the enum member."""

    impl = AutoString
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 16) -> None:
        super().__init__(length=length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum(value)


def timestamp(nullable: bool = False, index: bool = False) -> Any:
    """A UTC timestamp field: now by default, or None when nullable."""
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: _HasId) -> int:
    """The primary key of a row that has been flushed (the database gave it one)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return row.id


def rows_matched(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched: Session.execute types every result as a
    plain Result, though a DML statement's is always a CursorResult."""
    return cast(CursorResult[Any], result).rowcount
