"""Several `tuanbot run` processes share one outbox (on PostgreSQL with FOR UPDATE SKIP
LOCKED, on SQLite one writer at a time): no message leaves twice, and the bot's rate limit,
counted where the platform counts it (the fake Bot API, as each request arrives), holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from messages.records import reply_record
from messages.types import Reply
from models import outbox
from models.db import UnitOfWork, make_engine, session_factory
from models.migrate import upgrade
from models.types import utcnow
from tests.crash_helpers import BotProcess, database, open_outbox, telegram_env, wait_until
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.pacing_helpers import most_within

COUNT = 300
LIMIT = 30  # Telegram's messages per second per bot
# The workers keep 30 per 1.25 s, so that 30 per 1 s holds at the fake server however the
# shared machine delays a request on its way (the scheduling noise of a loaded test run).
LIMITS = f"bot={LIMIT}/1.25s"


def fill(url: str) -> list[str]:
    engine = make_engine(url)
    upgrade(engine)
    chats = [str(700_000 + n) for n in range(COUNT)]
    with UnitOfWork(session_factory(engine)) as uow:
        for chat in chats:
            outbox.enqueue(uow.session, "telegram", chat, reply_record(Reply("member day")),
                           utcnow(), kind="promotion")
        uow.commit()
    engine.dispose()
    return chats


def test_workers_in_several_processes_send_each_message_once_within_the_limit(
    tmp_path: Path
):
    with FakeTelegramAPI() as fake, database(tmp_path) as url:
        workers = 3 if url.startswith("postgresql") else 2
        chats = fill(url)
        bots = []
        for n in range(workers):
            (tmp_path / f"w{n}").mkdir()
            bots.append(BotProcess(tmp_path / f"w{n}", url, **telegram_env(
                fake, TELEGRAM_LIMITS=LIMITS, TUANBOT_SEED_DEMO="0")))
        try:
            for bot in bots:
                bot.start()
            wait_until(lambda: open_outbox(url) == 0, "everything sent", timeout=180,
                       log=lambda: "\n".join(b.log() for b in bots))
        finally:
            for bot in bots:
                bot.stop()
        arrivals = [c for c in fake.calls if c.method == "sendMessage" and not c.failed]
    received = Counter(str(c.params["chat_id"]) for c in arrivals)
    assert set(received) == set(chats) and max(received.values()) == 1  # once each
    assert most_within([c.at for c in arrivals], 1.0) <= LIMIT
