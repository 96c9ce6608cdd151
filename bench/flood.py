"""'+1' flood: N members join a group buy with stock N/4 (10 % of updates delivered twice).

Ours: the real Telegram adapter (PTB, loopback request object, SQLite file, concurrent
update processing) doing the whole join (dedupe, member, stock, order lines, roster bump,
queued private confirmation). Baseline, same run: a bare PTB application whose handler
answers every '+1' with "hi". Prints the last line

    +1 flood: N joins/s, cost ratio vs bare PTB: X, oversold: 0, duplicates: 0

    python bench/flood.py [N]
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters  # noqa: E402

from bench.loopback import LoopbackRequest  # noqa: E402
from bot.app import bootstrap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.telegram import TelegramChannel  # noqa: E402
from tests.flood_helpers import outcome, real_clock, seed, updates  # noqa: E402


async def _pump(app: Application, bodies: list[bytes]) -> float:  # type: ignore[type-arg]
    async with app:
        await app.start()
        start = time.perf_counter()
        for body in bodies:
            await app.update_queue.put(Update.de_json(json.loads(body), app.bot))
        while not app.update_queue.empty():
            await asyncio.sleep(0.001)
        await asyncio.sleep(0)
        elapsed = time.perf_counter() - start
        await app.stop()
    return elapsed


def bare(bodies: list[bytes]) -> float:
    app = (ApplicationBuilder().token("1:bare").request(LoopbackRequest())
           .get_updates_request(LoopbackRequest()).concurrent_updates(True).build())

    async def hi(update: Update, context: object) -> None:
        await update.effective_message.reply_text("hi")  # type: ignore[union-attr]

    app.add_handler(MessageHandler(filters.TEXT, hi))
    return asyncio.run(_pump(app, bodies))


def ours(bodies: list[bytes], members: int, home: Path) -> tuple[float, dict[str, int]]:
    settings = Settings(database_url=f"sqlite:///{home / 'flood.sqlite3'}", home=home)
    app = bootstrap(settings, clock=real_clock)
    buy_id = seed(app, members // 4)
    channel = TelegramChannel(app.deps, replace(settings, telegram_token="1:ours"),
                              request=LoopbackRequest(), updates_request=LoopbackRequest())
    elapsed = asyncio.run(_pump(channel.app, bodies))
    return elapsed, outcome(app, buy_id)


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    bodies = [json.dumps(u).encode() for u in updates(members, 0.10)]
    with tempfile.TemporaryDirectory() as tmp:
        bare_s = bare(bodies)
        ours_s, result = ours(bodies, members, Path(tmp))
        bare_s = min(bare_s, bare(bodies))
    stock = members // 4
    oversold = max(0, result["allocated"] - stock) + max(0, result["stock_counter"] - stock)
    duplicates = result["lines"] - result["buyers"]
    print(f"updates: {len(bodies)} ({members} members, stock {stock}, SQLite file)")
    print(f"bare PTB: {bare_s / len(bodies) * 1e6:.0f} us/update; tuanbot: "
          f"{ours_s / len(bodies) * 1e6:.0f} us/update")
    print(f"allocated {result['allocated']}, waitlisted {result['waitlisted']}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"+1 flood: {members / ours_s:.0f} joins/s, cost ratio vs bare PTB: "
          f"{ours_s / bare_s:.2f}, oversold: {oversold}, duplicates: {duplicates}")


if __name__ == "__main__":
    main()
