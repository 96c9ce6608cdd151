"""Pacing: 3,000 pushes to distinct private chats through the real delivery worker and the
real Telegram adapter (PTB, HTTP) to a local fake Bot API, at Telegram's 30 messages/s.

The outbox is filled first (not timed). The worker runs in a process of its own (the fake
server in this one), as `tuanbot run` would, on a SQLite file. The fake notes when each
sendMessage arrives; the rate is the sends over the span from the first to the last, against
the configured limit, and the window figure is the most that arrived within any 1 s. Prints

    pacing: achieved/limit R, max in any 1 s window W

    python bench/pacing.py [N]
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import bootstrap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.telegram import TelegramChannel  # noqa: E402
from messages.records import reply_record  # noqa: E402
from messages.types import Reply  # noqa: E402
from models import outbox  # noqa: E402
from models.db import UnitOfWork  # noqa: E402
from models.rules.pacing import Limits  # noqa: E402
from models.types import utcnow  # noqa: E402
from scheduler.paced import PACE, PacedWorker  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramAPI  # noqa: E402
from tests.pacing_helpers import left, most_within  # noqa: E402

LIMIT = 30  # Telegram: messages a second per bot


def settings(url: str, home: str, base: str = "") -> Settings:
    return Settings(database_url=url, home=Path(home), seed_demo=False, telegram_token="1:B",
                    telegram_base_url=f"{base}/bot", telegram_base_file_url=f"{base}/file/bot")


def fill(url: str, home: str, count: int) -> None:
    app = bootstrap(settings(url, home))
    now = utcnow()
    with UnitOfWork(app.deps.sessions) as uow:
        for n in range(count):
            outbox.enqueue(uow.session, "telegram", str(10_000 + n),
                           reply_record(Reply(f"group buy #{n % 7} closes tonight")), now,
                           kind="promotion")
        uow.commit()
    app.engine.dispose()


def deliver(url: str, home: str, base: str, ready: Any) -> None:
    """The child: the delivery worker, as the runner builds it, until the outbox is empty."""
    app = bootstrap(settings(url, home, base), migrate=False)
    gc.freeze()  # as bot/runner.py does: what start-up built is never scanned again

    async def main() -> None:
        channel = TelegramChannel(app.deps, app.settings)
        async with channel.app:
            worker = PacedWorker(app.deps.sessions, "telegram", channel.send, app.deps.clock,
                                    limits=Limits(per_bot=LIMIT), **PACE)
            stop = asyncio.Event()

            async def watch() -> None:
                while left(app.engine):
                    await asyncio.sleep(0.2)
                stop.set()

            ready.set()
            await asyncio.gather(worker.run(stop), watch())

    asyncio.run(main())
    app.engine.dispose()


def run(count: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as home, FakeTelegramAPI() as fake:
        url = f"sqlite:///{home}/pacing.sqlite3"
        fill(url, home, count)
        spawn = multiprocessing.get_context("spawn")
        ready = spawn.Event()
        child = spawn.Process(target=deliver, args=(url, home, f"http://127.0.0.1:{fake.port}",
                                                    ready))
        child.start()
        child.join(timeout=280)
        if child.is_alive():
            child.kill()
            raise SystemExit("pacing: the worker did not finish within 280 s")
        times = sorted(c.at for c in fake.calls if c.method == "sendMessage" and not c.failed)
    assert len(times) == count, f"{len(times)} of {count} sent"
    achieved = (len(times) - 1) / (times[-1] - times[0])
    return achieved / LIMIT, most_within(times, 1.0)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    started = time.monotonic()
    ratio, window = run(count)
    print(f"({count} messages in {time.monotonic() - started:.0f} s, fill included)")
    print(f"pacing: achieved/limit {ratio:.3f}, max in any 1 s window {window}")
