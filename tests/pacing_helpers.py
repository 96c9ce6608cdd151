"""Delivery workers in processes of their own, sharing one database, with a real clock.

Each process builds its own engine and drains the outbox through a fake send that writes
the wall time of every send (as it leaves) to a file of its own; the test reads the files afterwards.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from messages.types import Reply
from models.db import make_engine, session_factory
from models.migrate import upgrade
from models.rules.pacing import Limits
from models.tables import OutboxMessage
from scheduler.delivery import DeliveryWorker

CHANNEL = "telegram"
# Scaled down so a run takes seconds; the property checked is the same as Telegram's.
LIMITS = Limits(per_bot=25, per_chat=1, per_group=2, per_group_window=timedelta(seconds=3))
NETWORK = 0.01  # seconds a platform call takes
LAG = timedelta(milliseconds=100)  # a send leaves at most this long after its reservation
Sent = tuple[float, str, bool]  # wall time, chat, is_group


def real_clock() -> datetime:
    return datetime.now(UTC)


def reachable(db: Any, folder: Path) -> Any:
    """The test database, reachable from other processes (a migrated file when on SQLite)."""
    if db.dialect.name != "sqlite":
        return db
    engine = make_engine(f"sqlite:///{folder / 'shared.sqlite3'}")
    upgrade(engine)
    return engine


def drain_in_process(url: str, sends: str, seconds: float, start: Any) -> None:
    """The child's main: one worker drains until nothing is left to send (or time is up)."""
    engine = make_engine(url)
    left(engine)  # connected and warm before the race starts
    start.wait()
    with Path(sends).open("a") as record:

        async def send(chat_id: str, is_group: bool, reply: Reply) -> None:
            record.write(f"{time.time()!r} {chat_id} {int(is_group)}\n")
            record.flush()
            await asyncio.sleep(NETWORK)

        worker = DeliveryWorker(session_factory(engine), CHANNEL, send, real_clock,
                                limits=LIMITS, batch=3, idle=0.05, lag=LAG)
        asyncio.run(_until_empty(worker, engine, time.monotonic() + seconds))
    engine.dispose()


async def _until_empty(worker: DeliveryWorker, engine: Any, deadline: float) -> None:
    stop = asyncio.Event()

    async def watch() -> None:
        while left(engine) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stop.set()

    await asyncio.gather(worker.run(stop), watch())


def left(engine: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status.not_in(("sent", "failed")))).scalar_one())  # type: ignore[attr-defined]


def run_processes(url: str, folder: Path, workers: int, seconds: float = 90) -> list[Sent]:
    """`workers` spawned processes draining one outbox; every send they made."""
    spawn = multiprocessing.get_context("spawn")
    files = [folder / f"sends-{n}.txt" for n in range(workers)]
    start = spawn.Barrier(workers)  # all start draining together
    processes = [spawn.Process(target=drain_in_process, args=(url, str(f), seconds, start))
                 for f in files]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout=seconds + 30)
        assert [p.exitcode for p in processes] == [0] * workers
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    return [sent for f in files if f.exists() for sent in _read(f)]


def _read(file: Path) -> list[Sent]:
    rows = (line.split() for line in file.read_text().splitlines() if line)
    return [(float(at), chat, flag == "1") for at, chat, flag in rows]


def most_within(times: list[float], window: float) -> int:
    """The most sends inside any window of `window` seconds (times in any order)."""
    ordered, most, first = sorted(times), 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - window:
            first += 1
        most = max(most, last - first + 1)
    return most


def send_and_hang(url: str, started: str) -> None:
    """The child's main: one worker whose platform call never returns (until kill -9)."""
    engine = make_engine(url)

    async def send(chat_id: str, is_group: bool, reply: Reply) -> None:
        Path(started).write_text(chat_id)
        await asyncio.sleep(3600)

    worker = DeliveryWorker(session_factory(engine), CHANNEL, send, real_clock)
    asyncio.run(worker.drain_once())


def spawn(target: Any, *args: Any) -> Any:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args)
    process.start()
    return process


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} never appeared"
