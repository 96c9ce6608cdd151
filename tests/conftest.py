"""Fixtures: one database per session (SQLite in memory, or DATABASE_URL), emptied per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import models.tables  # noqa: F401
from bot.app import App, bootstrap
from bot.console import ConsoleChannel
from bot.settings import Settings
from bot.telegram import TelegramChannel
from models.db import make_engine
from models.migrate import upgrade
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.race_helpers import Workers

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite://")


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """SQLite in memory, or a fresh PostgreSQL database per run (so runs never collide)."""
    url = make_url(DATABASE_URL)
    if url.get_backend_name() != "postgresql":
        engine = make_engine(DATABASE_URL)
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    name = f"{url.database}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def empty_tables(engine: Engine) -> None:
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
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


@contextmanager
def sessions_begun() -> Iterator[list[object]]:
    """The ORM Sessions that began a transaction meanwhile (the light lane begins none)."""
    begun: list[object] = []

    def count(session: Session, *_: object) -> None:
        begun.append(session)

    event.listen(Session, "after_begin", count)
    try:
        yield begun
    finally:
        event.remove(Session, "after_begin", count)


def say(console: ConsoleChannel, *lines: str) -> list[str]:
    """Play console lines; return what the bot printed, one string per reply."""
    return [out for line in lines for out in console.exchange(line)]


@pytest.fixture
def fake() -> Iterator[FakeTelegramAPI]:
    """A local Telegram Bot API server (a module testing another platform defines its own)."""
    with FakeTelegramAPI() as api:
        yield api


@pytest_asyncio.fixture
async def channel(app: App, fake: FakeTelegramAPI) -> AsyncIterator[TelegramChannel]:
    """Our Telegram adapter, with a real PTB Application, talking to the fake server."""
    from tests.telegram_helpers import make_channel  # it imports this module: not at the top

    channel = make_channel(app, fake)
    async with channel.app:
        yield channel


@pytest.fixture
def workers(app: App, db: Engine, tmp_path: Path) -> Iterator[Workers]:
    """Four worker processes playing console lines on the test database at once."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: nothing can race")
    pool = Workers(db.url.render_as_string(hide_password=False), tmp_path)
    try:
        yield pool
    finally:
        pool.stop()
