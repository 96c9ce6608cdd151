"""'+1' flood: N members join a group buy with stock N/4 (10 % of updates delivered twice).

Most members are known already (half of those have started the bot in private, so their
joins queue a private confirmation in the outbox); a tenth are new. Ours: the real
Telegram adapter (PTB, loopback request object, SQLite file, concurrent update processing)
doing the whole join (durable inbox, member, stock, order lines, roster bump, queued
confirmation, answer marked). Baseline, same run: a bare PTB application with the same
transport — ours sends no group reply per '+1' (the group sees the roster), so neither does
the baseline. The two are alternated in chunks of the flood within one run (the machine is noisy),
each timed until every update's handler has returned, i.e. all its work,
the outbox included, is committed. Prints the last line

    +1 flood: N joins/s, cost ratio vs bare PTB: X, oversold: 0, duplicates: 0

With DATABASE_URL set (PostgreSQL), it also runs the flood with four worker processes on a
database of its own and prints their joins/s.

    python bench/flood.py [N]
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    MessageHandler,
    TypeHandler,
    filters,
)

from bench.loopback import LoopbackRequest  # noqa: E402
from bot.app import App, bootstrap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.telegram import TelegramChannel  # noqa: E402
from models import members  # noqa: E402
from models.db import UnitOfWork, make_engine  # noqa: E402
from tests.flood_helpers import outcome, real_clock, seed, updates  # noqa: E402

KNOWN = 0.9  # share of the members known before the flood
WORKERS = 4
CHUNK = 200


class Pump:
    """A started PTB application fed through its own queue (concurrent processing); a chunk's
    clock stops when the last of its updates has been handled (all its work committed)."""

    def __init__(self, app: Application) -> None:  # type: ignore[type-arg]
        self.app, self.left, self.done = app, 0, asyncio.Event()
        self.elapsed = 0.0
        app.add_handler(TypeHandler(Update, self._finished), group=99)  # after the real one

    async def _finished(self, update: object, context: object) -> None:
        self.left -= 1
        if self.left == 0:
            self.done.set()

    async def chunk(self, bodies: list[bytes]) -> None:
        self.left, self.done = len(bodies), asyncio.Event()
        start = time.perf_counter()
        for body in bodies:
            await self.app.update_queue.put(Update.de_json(json.loads(body), self.app.bot))
        await self.done.wait()
        self.elapsed += time.perf_counter() - start


def bare_app() -> Application:  # type: ignore[type-arg]
    app = (ApplicationBuilder().token("1:bare").request(LoopbackRequest())
           .get_updates_request(LoopbackRequest()).concurrent_updates(True).build())

    async def nothing(update: Update, context: object) -> None:
        return None  # the group hears the roster, not one answer per '+1'

    app.add_handler(MessageHandler(filters.TEXT, nothing))
    return app


async def alternate(bare: Application, ours: Application, bodies: list[bytes],  # type: ignore[type-arg]
                    chunk: int) -> tuple[float, float]:
    """The flood in chunks, each sent to the bare app and then to ours (the machine is noisy)."""
    pumps = Pump(bare), Pump(ours)
    async with bare, ours:
        await bare.start()
        await ours.start()
        for at in range(0, len(bodies), chunk):
            for pump in pumps:
                await pump.chunk(bodies[at:at + chunk])
        await bare.stop()
        await ours.stop()
    return pumps[0].elapsed, pumps[1].elapsed


def know(app: App, members_count: int) -> None:
    """Most flood members are known before it starts; half of them started the bot."""
    now = app.deps.clock()
    with UnitOfWork(app.deps.sessions) as uow:
        community = members.community_by_slug(uow.session, "demo")
        assert community is not None
        for i in range(int(members_count * KNOWN)):
            user = str(10_000 + i)
            joined = members.join(uow.session, community, "telegram", user, f"m{i}", f"m{i}", now)
            if i % 2 == 0:
                joined.account.private_chat = user
        uow.commit()


def ours(bodies: list[bytes], members_count: int, home: Path,
         chunk: int) -> tuple[float, float, dict[str, int]]:
    settings = Settings(database_url=f"sqlite:///{home / 'flood.sqlite3'}", home=home)
    app = bootstrap(settings, clock=real_clock)
    buy_id = seed(app, members_count // 4)
    know(app, members_count)
    channel = TelegramChannel(app.deps, replace(settings, telegram_token="1:ours"),
                              request=LoopbackRequest(), updates_request=LoopbackRequest())
    bare_s, ours_s = asyncio.run(alternate(bare_app(), channel.app, bodies, chunk))
    return bare_s, ours_s, outcome(app, buy_id)


def _worker(url: str, home: str, bodies: list[bytes], start: Any, results: Any) -> None:
    settings = Settings(database_url=url, home=Path(home), seed_demo=False)
    app = bootstrap(settings, clock=real_clock, migrate=False)
    channel = TelegramChannel(app.deps, replace(settings, telegram_token="1:ours"),
                              request=LoopbackRequest(), updates_request=LoopbackRequest())
    start.wait()
    began = time.time()
    asyncio.run(_alone(channel.app, bodies))
    results.put((began, time.time()))
    app.engine.dispose()


async def _alone(app: Application, bodies: list[bytes]) -> None:  # type: ignore[type-arg]
    pump = Pump(app)
    async with app:
        await app.start()
        await pump.chunk(bodies)
        await app.stop()


def postgres(url: str, bodies: list[bytes], members_count: int, home: Path) -> tuple[float, dict[str, int]]:
    """The flood on PostgreSQL, shared by four worker processes (each its own PTB app)."""
    base = make_url(url)
    name = f"{base.database}_flood_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    own = base.set(database=name).render_as_string(hide_password=False)
    try:
        app = bootstrap(Settings(database_url=own, home=home), clock=real_clock)
        buy_id = seed(app, members_count // 4)
        know(app, members_count)
        app.engine.dispose()
        spawn = multiprocessing.get_context("spawn")
        start, results = spawn.Barrier(WORKERS + 1), spawn.Queue()
        workers = [spawn.Process(target=_worker, args=(own, str(home), bodies[i::WORKERS],
                                                        start, results)) for i in range(WORKERS)]
        for worker in workers:
            worker.start()
        start.wait()
        spans = [results.get(timeout=600) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        elapsed = max(end for _, end in spans) - min(began for began, _ in spans)
        return elapsed, outcome(app, buy_id)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _faults(result: dict[str, int], stock: int) -> tuple[int, int]:
    oversold = max(0, result["allocated"] - stock) + max(0, result["stock_counter"] - stock)
    return oversold, result["lines"] - result["buyers"]


def main() -> None:
    members_count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    bodies = [json.dumps(u).encode() for u in updates(members_count, 0.10)]
    stock = members_count // 4
    url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as tmp:
        if url.startswith("postgresql"):
            pg_s, pg_result = postgres(url, bodies, members_count, Path(tmp) / "pg")
            oversold, duplicates = _faults(pg_result, stock)
            print(f"PostgreSQL, {WORKERS} worker processes: {members_count / pg_s:.0f} joins/s, "
                  f"oversold: {oversold}, duplicates: {duplicates}")
        bare_s, ours_s, result = ours(bodies, members_count, Path(tmp), CHUNK)
    oversold, duplicates = _faults(result, stock)
    print(f"updates: {len(bodies)} ({members_count} members, {KNOWN:.0%} known, stock {stock}, "
          f"SQLite file), alternated with the bare app in chunks of {CHUNK}")
    print(f"bare PTB: {bare_s / len(bodies) * 1e6:.0f} us/update; tuanbot: "
          f"{ours_s / len(bodies) * 1e6:.0f} us/update")
    print(f"allocated {result['allocated']}, waitlisted {result['waitlisted']}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"+1 flood: {members_count / ours_s:.0f} joins/s, cost ratio vs bare PTB: "
          f"{ours_s / bare_s:.2f}, oversold: {oversold}, duplicates: {duplicates}")


if __name__ == "__main__":
    main()
