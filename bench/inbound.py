"""Inbound cost: N `/me` through our Telegram adapter vs N `/start` through a bare PTB bot.

Both use real python-telegram-bot with an in-process loopback request object (no network),
so the ratio is our cost per update (JSON, Update, inbox dedupe, member lookup, tier
standing, template, commit, send) over PTB's own (JSON, Update, dispatch, send).

    python bench/inbound.py [N]
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

USERS = 200


async def _feed(app: Application, updates: list[dict]) -> float:  # type: ignore[type-arg]
    """Time raw update bodies from JSON to the reply leaving, as polling or a webhook would."""
    bodies = [json.dumps(u).encode() for u in updates]
    start = time.perf_counter()
    for body in bodies:
        await app.process_update(Update.de_json(json.loads(body), app.bot))
    return time.perf_counter() - start


async def bare(n: int, offset: int) -> float:
    request = LoopbackRequest()
    app = ApplicationBuilder().token("1:bare").request(request).get_updates_request(
        LoopbackRequest()).build()

    async def hi(update: Update, context: object) -> None:
        await update.effective_message.reply_text("hi")  # type: ignore[union-attr]

    app.add_handler(CommandHandler("start", hi))
    async with app:
        await _feed(app, [text_update(offset + i, "/start", 1000 + i % USERS) for i in range(50)])
        return await _feed(app, [text_update(offset + 50 + i, "/start", 1000 + i % USERS)
                                 for i in range(n)])


async def ours(n: int, offset: int, home: Path) -> float:
    settings = Settings(database_url=f"sqlite:///{home / 'bench.sqlite3'}", home=home,
                        telegram_token="1:ours")
    app = bootstrap(settings)
    request = LoopbackRequest()
    channel = TelegramChannel(app.deps, settings, request=request, updates_request=LoopbackRequest())
    async with channel.app:
        # every member joins once (not timed), then the timed /me round
        await _feed(channel.app, [text_update(offset + i, "/start", 1000 + i) for i in range(USERS)])
        offset += USERS
        elapsed = await _feed(channel.app, [text_update(offset + i, "/me", 1000 + i % USERS)
                                            for i in range(n)])
        assert request.calls >= n + USERS, "every /me must have been answered"
        return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        bare_s = asyncio.run(bare(n, 1))
        ours_s = asyncio.run(ours(n, 10_000_000, Path(tmp)))
        bare_again = asyncio.run(bare(n, 20_000_000))
    bare_s = min(bare_s, bare_again)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"updates: {n} (members: {USERS}, SQLite file, templates rendered)")
    print(f"bare PTB /start: {bare_s / n * 1e6:.0f} us/update")
    print(f"tuanbot /me:     {ours_s / n * 1e6:.0f} us/update")
    print(f"peak RSS: {peak_mb:.0f} MB")
    print(f"inbound /me cost ratio: {ours_s / bare_s:.2f}")


if __name__ == "__main__":
    main()
