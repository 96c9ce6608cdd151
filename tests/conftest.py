"""Fixtures: one database per session (SQLite in memory, or DATABASE_URL), emptied per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from bot.app import App, bootstrap
from bot.console import ConsoleChannel
from bot.settings import Settings
from models.db import make_engine
from models.migrate import upgrade

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite://")


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    engine = make_engine(DATABASE_URL)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


def empty_tables(engine: Engine) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    empty_tables(engine)
    yield engine


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 10, 4, 0, tzinfo=UTC))  # 12:00 in Taipei


@pytest.fixture
def app(db: Engine, clock: Clock, tmp_path: Path) -> App:
    settings = Settings(database_url=DATABASE_URL, home=tmp_path)
    return bootstrap(settings, clock=clock, engine=db, migrate=False)


@pytest.fixture
def console(app: App) -> ConsoleChannel:
    return ConsoleChannel(app.deps)


def say(console: ConsoleChannel, *lines: str) -> list[str]:
    """Play console lines; return what the bot printed, one string per reply."""
    return [out for line in lines for out in console.exchange(line)]
