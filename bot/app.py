"""The composition root: the one place that reads settings and builds engine, deps, channels."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from bot.demo import seed_demo
from bot.settings import Settings, make_database_folder
from handlers.context import Deps
from messages.render import Renderer
from models.db import UnitOfWork, make_engine, session_factory
from models.migrate import upgrade
from models.types import utcnow

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: Engine
    deps: Deps


def bootstrap(
    settings: Settings, *, clock: Callable[[], datetime] = utcnow, migrate: bool = True,
    engine: Engine | None = None,
) -> App:
    """Build everything. An empty SQLite file is upgraded; the demo is seeded when asked."""
    make_database_folder(settings.database_url)
    engine = engine or make_engine(settings.database_url)
    if migrate and (engine.dialect.name == "sqlite" or not inspect(engine).has_table("community")):
        upgrade(engine)
    deps = Deps(
        sessions=session_factory(engine),
        renderer=Renderer(),
        clock=clock,
        media_dir=settings.media_dir,
        default_community=settings.default_community,
        bot_names={"telegram": settings.telegram_bot_name, "line": settings.line_bot_id},
        limits=dict(settings.limits),
        reply_windows=dict(settings.reply_windows),
        retention=settings.retention,
    )
    if settings.seed_demo:
        with UnitOfWork(deps.sessions) as uow:
            if seed_demo(uow.session, clock()):
                log.info("seeded the demo community")
            uow.commit()
    return App(settings, engine, deps)
