"""Inbound cost: `/me` through our Telegram adapter vs a bare PTB bot replying "hi".

Both use real python-telegram-bot with an in-process loopback request object (no network),
so the ratio is our cost per update (JSON, Update, durable inbox: the event stored and
claimed in one transaction, then member lookup, tier standing, template and the kept answer in
a second; the 429-pause read before the send, the send) over PTB's own (JSON, Update,
dispatch, send). The answered mark is not written per answer: it rides on the process's next
inbox transaction (bot/inbox.py `answered_later`), so it is in the timed work of a later
update. The machine is noisy, so the two are alternated in chunks within one run and each
side's time is the sum of its chunks.

    python bench/inbound.py [N] [CHUNK]
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, CommandHandler  # noqa: E402

from bench.loopback import LoopbackRequest, text_update  # noqa: E402
from bot.app import bootstrap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.telegram import TelegramChannel  # noqa: E402
from scheduler.delivery import LIMITS, NONE  # noqa: E402

USERS = 200


async def _feed(app: Application, updates: list[dict]) -> float:  # type: ignore[type-arg]
    """Time raw update bodies from JSON until the handler returned (reply sent; its answered
    mark is carried by the next update's inbox transaction, inside the timing)."""
    bodies = [json.dumps(u).encode() for u in updates]
    start = time.perf_counter()
    for body in bodies:
        await app.process_update(Update.de_json(json.loads(body), app.bot))
    return time.perf_counter() - start


def bare_app() -> tuple[Application, LoopbackRequest]:  # type: ignore[type-arg]
    request = LoopbackRequest()
    app = ApplicationBuilder().token("1:bare").request(request).get_updates_request(
        LoopbackRequest()).concurrent_updates(True).build()

    async def hi(update: Update, context: object) -> None:
        await update.effective_message.reply_text("hi")  # type: ignore[union-attr]

    app.add_handler(CommandHandler(["start", "me"], hi))
    return app, request


def our_app(home: Path) -> tuple[Application, LoopbackRequest]:  # type: ignore[type-arg]
    # The cost per update, not Telegram's 30-a-second budget (beyond it answers are queued):
    # without limits nothing is reserved or logged per answer; only the channel's 429 pause
    # is read (one statement) before each send, as on any unlimited channel.
    settings = Settings(database_url=f"sqlite:///{home / 'bench.sqlite3'}", home=home,
                        telegram_token="1:ours", limits={**LIMITS, "telegram": NONE})
    request = LoopbackRequest()
    channel = TelegramChannel(bootstrap(settings).deps, settings, request=request,
                              updates_request=LoopbackRequest())
    return channel.app, request


def me(first_id: int, count: int) -> list[dict]:  # type: ignore[type-arg]
    return [text_update(first_id + i, "/me", 1000 + (first_id + i) % USERS) for i in range(count)]


async def run(n: int, chunk: int, home: Path) -> tuple[float, float]:
    bare, bare_request = bare_app()
    ours, our_request = our_app(home)
    async with bare, ours:
        # every member joins once, then both warm up (not timed)
        await _feed(ours, [text_update(1 + i, "/start", 1000 + i) for i in range(USERS)])
        await _feed(bare, me(1, 100))
        await _feed(ours, me(1_000_000, 100))
        bare_s = ours_s = 0.0
        next_id = 2_000_000
        for _ in range(0, n, chunk):
            bare_s += await _feed(bare, me(next_id, chunk))
            ours_s += await _feed(ours, me(next_id, chunk))
            next_id += chunk
        assert our_request.calls >= USERS + 100 + n, f"every /me must have been answered: {our_request.calls}"
        assert bare_request.calls >= 100 + n
        return bare_s, ours_s


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    n = max(chunk, n // chunk * chunk)
    with tempfile.TemporaryDirectory() as tmp:
        bare_s, ours_s = asyncio.run(run(n, chunk, Path(tmp)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"updates: {n} each, alternated in chunks of {chunk} "
          f"(members: {USERS}, SQLite file, templates rendered)")
    print(f"bare PTB /me -> 'hi': {bare_s / n * 1e6:.0f} us/update")
    print(f"tuanbot /me:          {ours_s / n * 1e6:.0f} us/update")
    print(f"peak RSS: {peak_mb:.0f} MB")
    print(f"inbound /me cost ratio: {ours_s / bare_s:.2f}")


if __name__ == "__main__":
    main()
