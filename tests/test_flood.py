"""2,000 members send '+1' (10 % delivered twice) to a group buy with stock 500.

Through the real Telegram adapter (PTB with concurrent update processing), on SQLite with
one worker and on PostgreSQL with four workers racing each other: exactly 500 allocated,
1,500 waitlisted, no duplicate order, and the roster edited within the group limit.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, bootstrap
from bot.settings import Settings
from bot.telegram import TelegramChannel
from models.db import make_engine
from scheduler import roster
from scheduler.delivery import reserve_direct
from tests.conftest import DATABASE_URL
from tests.flood_helpers import GROUP, outcome, real_clock, run_workers, seed, updates

MEMBERS, STOCK = 2000, 500


@pytest.fixture
def flood_app(db, tmp_path: Path) -> App:
    if db.dialect.name == "sqlite":  # a file: several threads, several connections
        url = f"sqlite:///{tmp_path / 'flood.sqlite3'}"
        return bootstrap(Settings(database_url=url, home=tmp_path), clock=real_clock,
                         engine=make_engine(url))
    return bootstrap(Settings(database_url=DATABASE_URL, home=tmp_path), clock=real_clock,
                     engine=db, migrate=False)


def test_a_plus_one_flood_never_oversells_or_duplicates(flood_app: App):
    buy_id = seed(flood_app, STOCK)
    flood = updates(MEMBERS, 0.10)
    workers = 4 if flood_app.engine.dialect.name == "postgresql" else 1
    batches = [flood[i::workers] for i in range(workers)]  # redeliveries cross workers
    settings = replace(flood_app.settings, telegram_token="1:flood")
    posts: list[float] = []
    stop = threading.Event()
    publisher = threading.Thread(target=_publish_rosters, args=(flood_app, posts, stop))
    publisher.start()
    try:
        run_workers(flood_app, lambda: settings, batches)
    finally:
        stop.set()
        publisher.join(timeout=60)

    result = outcome(flood_app, buy_id)
    assert result == {"stock_counter": STOCK, "allocated": STOCK, "waitlisted": MEMBERS - STOCK,
                      "lines": MEMBERS, "buyers": MEMBERS}
    assert posts, "the roster was published"
    assert all(sum(1 for t in posts if start <= t < start + 60) <= 20 for start in posts)
    final = roster.due(flood_app.deps, "telegram", timedelta(0))
    text = final[0].text if final else ""
    assert not final or (f"0 / {STOCK}" in text and f"{MEMBERS - STOCK}" in text)


def _publish_rosters(app: App, posts: list[float], stop: threading.Event) -> None:
    """The roster job, every 50 ms during the flood, through the real adapter's post_roster."""
    import time

    from bench.loopback import LoopbackRequest

    settings = replace(app.settings, telegram_token="1:roster")
    channel = TelegramChannel(app.deps, settings, request=LoopbackRequest(),
                              updates_request=LoopbackRequest())

    async def post(chat_id, message_id, text, buttons, card=None):  # type: ignore[no-untyped-def]
        assert chat_id == str(GROUP)
        posts.append(time.monotonic())
        return await channel.post_roster(chat_id, message_id, text, buttons)

    def may_send(chat_id: str) -> bool:
        return reserve_direct(app.deps.sessions, "telegram", chat_id, True, app.deps.clock())

    async def loop() -> None:
        async with channel.app:
            while not stop.is_set():
                await roster.publish(app.deps, "telegram", post, timedelta(seconds=3), may_send)
                await asyncio.sleep(0.05)

    asyncio.run(loop())
