"""Engines and sessions. Built by the composition root, never at import time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

SessionFactory = Callable[[], Session]


def make_engine(url: str, **kwargs: Any) -> Engine:
    """SQLite gets WAL, foreign keys and a busy timeout; in-memory SQLite one shared connection."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        # Every unit of work ends in commit or rollback, so the pool need not roll back again.
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30},
                                   "pool_reset_on_return": None}
        if in_memory:
            options["poolclass"] = StaticPool
        engine = create_engine(url, **options, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, class_=Session, expire_on_commit=False)  # type: ignore[return-value]


class UnitOfWork:
    """One transaction: everything inside commits together or not at all."""

    def __init__(self, factory: SessionFactory) -> None:
        self._factory = factory

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()  # rolls back whatever was not committed

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
