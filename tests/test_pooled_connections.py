"""Pooled PostgreSQL connections: pinged only after sitting idle, replaced when stale."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from models.db import Direct, UnitOfWork, make_engine, session_factory
from models.events import accept


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _stale_pool(db: Engine, ping_after: float) -> tuple[Engine, int]:
    """An engine whose one pooled connection the server has since closed."""
    if db.dialect.name != "postgresql":
        pytest.skip("a server database's pool (SQLite has no server to lose)")
    engine = make_engine(db.url.render_as_string(hide_password=False), ping_after=ping_after,
                         pool_size=1, max_overflow=0)
    pid = _backend(engine)
    with db.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    return engine, pid


def test_a_connection_idle_past_the_ping_is_replaced_when_the_server_closed_it(db, clock):
    engine, stale = _stale_pool(db, ping_after=0)
    try:
        with Direct(session_factory(engine)) as tx:  # the inbox's raw path
            assert accept(tx, "console", "e1", {"text": "hi"}, clock())
            tx.commit()
        assert _backend(engine) != stale
        with UnitOfWork(session_factory(engine)) as uow:
            assert uow.session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_busy_connection_is_not_pinged_so_a_stale_one_fails_once_then_is_replaced(db):
    engine, stale = _stale_pool(db, ping_after=3600)
    try:
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))  # no round trip before: the error shows
        assert _backend(engine) != stale  # the pool replaced it
    finally:
        engine.dispose()
