"""Many rows at once as plain tuples, on the DB-API cursor of the session's transaction (the
bulk paths: a campaign's recipients and what it reads of them, its outbox messages): inserted
(`Rows`) or read (`plain_rows`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Sequence
from itertools import repeat
from operator import is_
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel import Session

from models.db import _dbapi, _dialect_key
from models.plans import single


def plain_rows(session: Session, query: Executable) -> list[tuple[Any, ...]]:
    """Every row of a SELECT as the driver gives it, taken straight from the DB-API cursor:
    no per-row objects of SQLAlchemy's (a few hundred thousand rows in a campaign run); a
    column whose values SQLAlchemy would convert (booleans, timestamps on SQLite) is converted
    here the same way."""
    result = session.connection().execute(query)
    try:
        rows = cast(list[tuple[Any, ...]], result.cursor.fetchall())
        compiled = result.context.compiled
        columns = (compiled._result_columns if compiled is not None else None) or []
        processors = [(at, process) for at, column in enumerate(columns)
                      if (process := column.type._cached_result_processor(result.dialect, None))]
    finally:
        result.close()
    if not processors:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for at, process in processors:
            values[at] = process(values[at])
        converted.append(tuple(values))
    return converted


class Rows:
    """An INSERT of many rows as plain tuples (in `columns` order): `INSERT … VALUES (…), (…), …`
    compiled once per dialect (the binds, casts, ON CONFLICT and RETURNING SQLAlchemy would send)
    and run on the DB-API cursor of the session's transaction, `per` rows a statement. Bind
    processors (JSON, timestamps) run per column, once per distinct value where the values are
    plain (timestamps, strings): the per-row work of an ORM or Core insert, without its
    per-row objects. Every column is given (no Python-side defaults on this path).

    `serialized`: JSON columns whose values are given as JSON text already (exactly what
    `json.dumps` makes of the value): passed as they are where the driver takes JSON as that
    text (SQLite), read back into the value for the column's own processor elsewhere.
    `constants`: the values of the last columns, the same in every row (the rows give the
    others), processed once."""

    def __init__(self, statement: ClauseElement, columns: Sequence[str], per: int = 500,
                 serialized: Collection[str] = (), constants: Sequence[Any] = ()) -> None:
        self.statement, self.columns, self.per = statement, tuple(columns), per
        self.serialized, self.constants = frozenset(serialized), tuple(constants)
        self._plans: dict[tuple[object, ...], _RowsPlan] = {}

    def run(self, session: Session, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Insert; the rows RETURNING gives (none without a RETURNING clause)."""
        connection, dialect = _dbapi(session)
        plan = self._plans.get(_dialect_key(dialect)) or self._plan(dialect)
        found: list[tuple[Any, ...]] = []
        cursor = connection.cursor()
        try:
            for start in range(0, len(rows), self.per):
                chunk = rows[start:start + self.per]
                cursor.execute(plan.sql(len(chunk)), plan.flat(chunk))
                if plan.returns:
                    found.extend(cursor.fetchall())
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(plan.one, None, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
        finally:
            cursor.close()
        return found

    def _plan(self, dialect: Dialect) -> _RowsPlan:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.columns))
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {self.statement}")
        plan = _RowsPlan(compiled, dialect, self.columns, self.serialized, self.constants)
        self._plans[_dialect_key(dialect)] = plan
        return plan


_NAMED = re.compile(r"%\((\w+)\)s")


class _RowsPlan:
    def __init__(self, compiled: SQLCompiler, dialect: Dialect, columns: tuple[str, ...],
                 serialized: frozenset[str], constants: tuple[Any, ...]) -> None:
        self.one = compiled.string
        start = self.one.index(" VALUES (") + len(" VALUES ")
        end = _closing(self.one, start)
        group = self.one[start:end]
        if dialect.positional:
            names = list(compiled.positiontup or ())
        elif dialect.paramstyle == "pyformat":
            names = _NAMED.findall(group)
            group = _NAMED.sub("%s", group)
        else:
            raise NotImplementedError(f"paramstyle {dialect.paramstyle}")
        if sorted(names) != sorted(columns):
            raise NotImplementedError(f"give every column of the INSERT: {names}")
        self.head, self.group, self.tail = self.one[:start], group, self.one[end:]
        self.order = [columns.index(name) for name in names]
        processors = compiled._bind_processors
        self.processors: list[tuple[int, Callable[[Any], Any]]] = []
        for i, name in enumerate(columns):
            process = single(name, processors[name]) if name in processors else None
            if process is not None and name in serialized:
                process = _from_text(process)
            if process is not None:
                self.processors.append((i, process))
        given = len(columns) - len(constants)  # the columns each row gives
        self.fixed = [(given + at, dict(self.processors).get(given + at, _same)(value))
                      for at, value in enumerate(constants)]
        self.processors = [(i, process) for i, process in self.processors if i < given]
        self.returns = bool(compiled._result_columns)
        self._sql: dict[int, str] = {}

    def sql(self, count: int) -> str:
        found = self._sql.get(count)
        if found is None:
            found = self._sql[count] = self.head + ", ".join([self.group] * count) + self.tail
        return found

    def flat(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        values: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for i, process in self.processors:
            values[i] = _processed(values[i], process)
        values += [[value] * len(rows) for _, value in self.fixed]
        ordered = [values[i] for i in self.order]
        return [value for row in zip(*ordered, strict=True) for value in row]


def _same(value: Any) -> Any:
    return value


def _from_text(process: Callable[[Any], Any]) -> Callable[[Any], Any] | None:
    """A JSON column's processor for values given as JSON text: none where the processor
    makes that same text of a value (SQLite), else the text read back first."""
    sample = {"text": "會員 – ¥1", "buttons": [["+1", "/join #3"]], "image": None, "private": False}
    if process(sample) == json.dumps(sample):
        return None
    return lambda text: process(json.loads(text))


def _closing(sql: str, start: int) -> int:
    """Where the parenthesised group opening at `start` ends (one past its ')')."""
    depth = 0
    for at in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[at], 0)
        if depth == 0:
            return at + 1
    raise ValueError(f"unbalanced VALUES in {sql}")


def _processed(column: Sequence[Any], process: Callable[[Any], Any]) -> list[Any]:
    """A bind processor over a column: once per distinct value (of one type: 1 and True
    differ) when the values are hashable, as the same timestamp in every row is; per value
    otherwise (a JSON body). The very same object in every row (a run's moment, a status):
    processed once, without a look-up per row."""
    if column and all(map(is_, column, repeat(column[0]))):
        return [process(column[0])] * len(column)
    done: dict[tuple[type, Any], Any] = {}
    try:
        return [done[key] if (key := (value.__class__, value)) in done
                else done.setdefault(key, process(value)) for value in column]
    except TypeError:  # unhashable
        return [process(value) for value in column]
