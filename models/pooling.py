"""A server database's pool: a connection is pinged at checkout only after sitting idle.

SQLAlchemy's `pool_pre_ping` costs a round trip at every checkout, i.e. per transaction on
the hot path. A server restart or an idle timeout closes connections while they sit in the
pool, so only one idle for a while is pinged (and replaced when it does not answer); one
that fails in use invalidates the pool as SQLAlchemy does anyway.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

PING_AFTER = 10.0  # seconds a pooled connection may sit idle before it is pinged at checkout
RECYCLE_AFTER = 1800  # seconds: a connection older than this is replaced at checkout


def ping_when_idle(engine: Engine, ping_after: float = PING_AFTER) -> None:
    event.listen(engine, "checkin", _checked_in)
    event.listen(engine, "checkout", partial(_ping_if_idle, ping_after))


def _checked_in(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(ping_after: float, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """At checkout, a connection idle for a while answers a SELECT 1 or is replaced (the pool
    tries again with a new one: DisconnectionError)."""
    since = record.info.get(_IDLE_SINCE)
    if since is None or time.monotonic() - since < ping_after:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as error:
        raise DisconnectionError(f"stale pooled connection: {error}") from error


_IDLE_SINCE = "tuanbot.idle_since"
