"""Engines and sessions. Built by the composition root, never at import time."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel import Session, SQLModel, create_engine

from models.orm_rows import adopt as adopt  # re-exported: callers import them from here
from models.orm_rows import among as among
from models.plans import Plan, Rows
from models.pooling import PING_AFTER, RECYCLE_AFTER, ping_when_idle

SessionFactory = Callable[[], Session]
T = TypeVar("T")




def make_engine(url: str, ping_after: float = PING_AFTER, **kwargs: Any) -> Engine:
    """SQLite gets WAL, foreign keys and a busy timeout; in-memory SQLite one shared connection.
    A server database's pooled connections are pinged only after sitting idle (models.pooling)."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        # Every unit of work ends in commit or rollback, so the pool need not roll back again.
        # The connection used last is handed out next: SQLite drops a connection's page cache
        # whenever another connection wrote, so a pool going round its connections would read
        # every page of the sender's lookup anew on each message.
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30,
                                                    "cached_statements": 1024},
                                   "pool_reset_on_return": None, "pool_use_lifo": True}
        if in_memory:
            options = {"connect_args": options["connect_args"], "pool_reset_on_return": None,
                       "poolclass": StaticPool}
        engine = create_engine(url, **options, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    pooling = {"pool_size": 10, "max_overflow": 20, "pool_recycle": RECYCLE_AFTER}
    engine = create_engine(url, **{**pooling, **kwargs})
    ping_when_idle(engine, ping_after)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, class_=Session, expire_on_commit=False)


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


class Direct:
    """One short transaction straight on a pooled DB-API connection, for `Statement`s only
    (no Session, no ORM): the inbox's own writes and reads around each message.

        with Direct(deps.sessions) as tx:
            events.take(tx, ...)
            tx.commit()

    Leaving without `commit` rolls back. A factory that is not a sessionmaker bound to an
    engine gets a UnitOfWork's session instead (the statements run the same on it).
    """

    def __init__(self, factory: SessionFactory) -> None:
        self._factory = factory
        self.info: dict[str, Any] = {}

    def __enter__(self) -> Runner:
        bind = getattr(self._factory, "kw", {}).get("bind")
        if not isinstance(bind, Engine):
            self._uow: UnitOfWork | None = UnitOfWork(self._factory).__enter__()
            return self._uow.session
        self._uow = None
        self._fairy = bind.raw_connection()
        self.info[_DBAPI] = (self._fairy.driver_connection, bind.dialect)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._uow is not None:
            self._uow.__exit__(*exc)
            return
        try:
            self._fairy.rollback()  # nothing left after a commit
        finally:
            self._fairy.close()
            self.info.clear()

    def commit(self) -> None:
        self._fairy.commit()


Runner = Session | Direct  # where a Statement runs: a session's transaction, or a Direct one


class Statement:
    """A Core statement compiled once per dialect and run on the DB-API cursor of the
    session's transaction: the SQL SQLAlchemy itself would send (same binds, types, casts,
    dialect-specific INSERTs), without its per-call machinery. For the per-message hot path.

    Driver errors are raised as SQLAlchemy's (IntegrityError, OperationalError…), so callers
    handle them as before. No autoflush: run it before, or apart from, pending ORM changes.
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._plans: dict[tuple[object, ...], Plan] = {}

    def run(self, session: Runner, params: Mapping[str, Any]) -> Any:
        """Execute; the DB-API cursor (rowcount, and rows through `one`/`first`)."""
        connection, dialect = _dbapi(session)
        plan = self._plans.get(_dialect_key(dialect)) or self._plan(dialect)
        cursor = connection.cursor()
        try:
            cursor.execute(plan.sql, plan.parameters(params))
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(plan.sql, params, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
        return Rows(cursor, plan.results)

    def run_many(self, session: Runner, many: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per parameter set, in one DB-API call (`executemany`)."""
        connection, dialect = _dbapi(session)
        plan = self._plans.get(_dialect_key(dialect)) or self._plan(dialect)
        cursor = connection.cursor()
        try:
            cursor.executemany(plan.sql, [plan.parameters(params) for params in many])
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(plan.sql, many, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
        finally:
            cursor.close()

    def _plan(self, dialect: Dialect) -> Plan:
        compiled = self.statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler):  # DDL has no place on this path
            raise TypeError(f"not a SQL statement: {self.statement}")
        plan = Plan(compiled, dialect)
        self._plans[_dialect_key(dialect)] = plan
        return plan


def _dialect_key(dialect: Dialect) -> tuple[object, ...]:
    return (dialect.name, dialect.driver, dialect.server_version_info)


def _dbapi(session: Runner) -> tuple[Any, Dialect]:
    """The DB-API connection of the session's transaction (begun if need be), kept on the
    session until that transaction ends."""
    found = session.info.get(_DBAPI)
    if found is None:
        assert isinstance(session, Session)
        connection = session.connection()
        found = session.info[_DBAPI] = (connection.connection.driver_connection,
                                        connection.dialect)
    return found


_DBAPI = "tuanbot.dbapi"


@event.listens_for(Session, "after_transaction_end")
def _forget_dbapi(session: Session, _transaction: object) -> None:
    session.info.pop(_DBAPI, None)


def flush(runner: Runner) -> None:
    """A session's pending ORM changes sent, before a `Statement` that must see them (a
    Direct transaction has none)."""
    if isinstance(runner, Session):
        runner.flush()


def session_of(runner: Runner) -> Session | None:
    """The runner's session (for ORM instances of rows it read), or None on a Direct one."""
    return runner if isinstance(runner, Session) else None


def table_of(model: type[SQLModel]) -> Table:
    """The table a SQLModel class maps (`Model.__table__`, which the type checker cannot see)."""
    table = sa_inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} maps no single table")
    return table


def dialect_name(session: Runner) -> str:
    """'sqlite' or 'postgresql': the session's database (for a dialect-specific INSERT)."""
    return str(_dbapi(session)[1].name)
