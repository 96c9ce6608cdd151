"""Worker processes for the PostgreSQL line-status races: each plays console lines on cue.

A worker builds its own engine and app from the test database's URL (spawned processes share
nothing with the test but the database), then, for every round, takes its lines from its
queue, waits at the barrier with the other workers so they start together, plays the lines
through the dispatcher as the console channel would, and hands back the replies' text.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Queue
from typing import Any

from bot.app import bootstrap
from bot.console import ConsoleChannel
from bot.settings import Settings
from handlers.dispatch import handle
from models.db import make_engine

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
WORKERS = 4


def fixed_clock() -> datetime:
    return NOW


def play(url: str, home: str, barrier: Barrier, jobs: Queue[list[str] | None],
         results: Queue[list[str]]) -> None:
    """Until told to stop (None): wait for the others, play this round's lines, report."""
    engine = make_engine(url)
    try:
        app = bootstrap(Settings(database_url=url, home=Path(home), seed_demo=False),
                        clock=fixed_clock, engine=engine, migrate=False)
        console = ConsoleChannel(app.deps)
        while (lines := jobs.get()) is not None:
            barrier.wait()
            replies: list[str] = []
            for line in lines:
                msg = console.to_incoming(line)
                assert msg is not None
                replies += [reply.as_text() for reply in handle(msg, app.deps)]
            results.put(replies)
    finally:
        engine.dispose()


class Workers:
    """Four spawned processes, each playing its line of a round when the barrier opens."""

    def __init__(self, url: str, home: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.barrier = context.Barrier(WORKERS, timeout=120)  # kept: the children unpickle it
        self.jobs = [context.Queue() for _ in range(WORKERS)]
        self.results: Any = context.Queue()
        self.processes = [
            context.Process(target=play, args=(url, str(home), self.barrier, jobs, self.results),
                            daemon=True)
            for jobs in self.jobs
        ]
        for process in self.processes:
            process.start()

    def round(self, lines: tuple[str, ...]) -> list[str]:
        for jobs, line in zip(self.jobs, lines, strict=True):
            jobs.put([line])
        return [reply for _ in lines for reply in self.results.get(timeout=120)]

    def stop(self) -> None:
        for jobs in self.jobs:
            jobs.put(None)
        for process in self.processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
