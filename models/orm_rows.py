"""Rows read below the ORM made ORM instances again (`adopt`), and id sets as a cheap WHERE
(`among`). Re-exported by models.db."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session

T = TypeVar("T")


def adopt(session: Session | None, model: type[T], values: Mapping[str, Any],
          attach: bool = True) -> T:
    """A row read by a `Statement` as the ORM would have loaded it: a persistent instance in
    the session (the session's own when it holds that row already), changes flushed as usual.

    `attach=False`: a detached instance (cheaper): read it, or `session.add` it to change it.
    No session (a transaction without one: models.db.Direct): always detached.
    """
    mapper = _MAPPERS.get(model) or _mapper(model)
    key = mapper.identity_key_from_primary_key((values["id"],))
    found = session.identity_map.get(key) if session is not None else None
    if found is not None:
        return found  # type: ignore[no-any-return]
    instance = mapper.class_manager.new_instance()
    state = instance_state(instance)
    state.dict.update(values)
    if len(values) == len(mapper.column_attrs):  # a whole row: loaded as a query loads it
        state.key = key
        state._commit_all(state.dict)
    else:  # what is missing loads when read
        make_transient_to_detached(instance)
    if attach:
        assert session is not None, "only a session's instance can be attached"
        session.add(instance)
    return instance  # type: ignore[no-any-return]


def among(column: Any, ids: Sequence[int]) -> Any:
    """`column` is one of `ids` (sorted): a range when they are dense (the caller keeps only
    the ids it asked for), an IN list when sparse. Thousands of bound parameters cost more to
    compile than a range costs to read."""
    if not ids:
        return column.in_([])
    low, high = ids[0], ids[-1]
    if len(ids) > 50 and len(ids) * 4 >= high - low + 1:
        return column.between(low, high)
    return column.in_(ids)


_MAPPERS: dict[type[Any], Any] = {}


def _mapper(model: type[Any]) -> Any:
    mapper = sa_inspect(model)
    if not mapper.configured:  # no ORM query ran yet in this process
        configure_mappers()
    _MAPPERS[model] = mapper
    return mapper
