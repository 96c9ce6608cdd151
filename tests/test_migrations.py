"""The Alembic migrations build exactly the schema the tables declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from models.db import make_engine
from models.migrate import upgrade


def test_migrations_match_the_tables(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_an_empty_sqlite_file_is_upgraded(tmp_path):
    file_engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade(file_engine)
    upgrade(file_engine)  # a second run is harmless
    with file_engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
