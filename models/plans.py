"""A Core statement compiled for one dialect (models.db.Statement's plan): its SQL, how its
parameters are bound (defaults, each bind's processor), and its rows read back as SQLAlchemy
would give them (only the columns whose values change on the way in are processed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from models.types import UTCDateTime


class Plan:
    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        if any(bind.expanding for bind in compiled.binds.values()):
            raise NotImplementedError("an IN list (expanding bind) is not taken on this path")
        self.sql = compiled.string
        self.defaults = compiled.construct_params(_check=False)
        prefetch = [*compiled.insert_prefetch, *compiled.update_prefetch]
        for column in prefetch:  # Python-side column defaults, as SQLAlchemy would fill in
            if not isinstance(column.default, ScalarElementColumnDefault):
                raise NotImplementedError(f"{column}: only constant defaults on this path")
            self.defaults[column.key] = column.default.arg
        self.binds = [(name, _kept(compiled, name, single(name, process)))
                      for name, process in compiled._bind_processors.items()]
        self.order = list(compiled.positiontup or ()) if dialect.positional else None
        processors = [column.type._cached_result_processor(dialect, None)
                      for column in compiled._result_columns]
        # only the columns whose values change on the way in (timestamps, JSON, enums…)
        self.results = [(at, p) for at, p in enumerate(processors) if p is not None]

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values = {**self.defaults, **params}
        for name, process in self.binds:
            values[name] = process(values[name])
        return values if self.order is None else [values[name] for name in self.order]


def single(name: str, process: object) -> Callable[[Any], Any]:
    """A bind's one processor (an expanding tuple bind has one per element: not here)."""
    if not callable(process):
        raise NotImplementedError(f"{name}: tuple binds are not supported on this path")
    return process


def _kept(compiled: SQLCompiler, name: str, process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A timestamp's processor keeps its last answer (`_LastKept`); any other as it is."""
    timestamp = isinstance(compiled.binds[name].type, DateTime | UTCDateTime)
    return _LastKept(process) if timestamp else process


class _LastKept:
    """A timestamp's processor that keeps its last answer: a message's statements bind the
    same `now` again and again (a datetime never changes, so the same object gives the same
    value). One attribute, replaced whole: safe to share between threads."""

    __slots__ = ("process", "last")

    def __init__(self, process: Callable[[Any], Any]) -> None:
        self.process, self.last = process, (None, None)

    def __call__(self, value: Any) -> Any:
        last = self.last
        if value is last[0] and value is not None:
            return last[1]
        out = self.process(value)
        self.last = (value, out)
        return out


class Rows:
    def __init__(self, cursor: Any, results: list[tuple[int, Any]]) -> None:
        self.cursor, self.results = cursor, results

    @property
    def rowcount(self) -> int:
        return int(self.cursor.rowcount)

    def first(self) -> tuple[Any, ...] | None:
        row = self.cursor.fetchone()
        self.cursor.close()
        if row is None:
            return None
        return self._processed(row)

    def all(self) -> list[tuple[Any, ...]]:
        rows = self.cursor.fetchall()
        self.cursor.close()
        return [self._processed(row) for row in rows]

    def _processed(self, row: Any) -> tuple[Any, ...]:
        if not self.results:
            return tuple(row)
        values = list(row)
        for at, process in self.results:
            values[at] = process(values[at])
        return tuple(values)
