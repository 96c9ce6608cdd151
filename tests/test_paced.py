"""The paced worker (what `tuanbot run` delivers with): a batch planned at once, sent one at
a time at evenly spread moments; a 429 stops the rest of the batch until it has passed.
Real clock, a database file, the real Telegram adapter and the fake Bot API."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from messages.records import reply_record
from messages.types import Reply
from models import outbox
from models.db import UnitOfWork, session_factory
from models.rules.pacing import Limits
from models.tables import OutboxMessage
from scheduler.paced import PACE, PacedWorker
from tests.pacing_helpers import reachable, real_clock


def queue(engine: Engine, count: int) -> None:
    with UnitOfWork(session_factory(engine)) as uow:
        for n in range(count):
            outbox.enqueue(uow.session, "telegram", str(4000 + n), reply_record(Reply("news")),
                           real_clock())
        uow.commit()


def sent(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.status == "sent")).scalar_one())


async def drain(worker: PacedWorker, engine: Engine, count: int) -> None:
    for _ in range(300):  # at most about 15 s
        await worker.drain_once()
        if sent(engine) == count:
            break
        await asyncio.sleep(0.05)
    await worker.run_out()


@pytest.mark.asyncio
async def test_a_batch_leaves_evenly_spread_one_send_at_a_time(db, channel, fake, tmp_path: Path):
    engine = reachable(db, tmp_path)
    queue(engine, 12)
    worker = PacedWorker(session_factory(engine), "telegram", channel.send, real_clock,
                         limits=Limits(per_bot=20), **PACE)
    await drain(worker, engine, 12)
    times = sorted(c.at for c in fake.calls if c.method == "sendMessage")
    assert len(times) == 12 and sent(engine) == 12
    spacing = (1 + PACE["margin"].total_seconds()) / 20
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert sum(gaps) / len(gaps) >= spacing * 0.9  # spread out, not a burst of twelve


@pytest.mark.asyncio
async def test_a_429_stops_the_rest_of_the_batch_until_it_has_passed(
    db, channel, fake, tmp_path: Path
):
    engine = reachable(db, tmp_path)
    queue(engine, 6)
    fake.fail_next("sendMessage", 429, retry_after=1)
    worker = PacedWorker(session_factory(engine), "telegram", channel.send, real_clock,
                         limits=Limits(per_bot=30), **PACE)
    await worker.drain_once()
    await worker.run_out()
    assert sent(engine) == 0  # the first was refused, the others waited
    await drain(worker, engine, 6)
    delivered = Counter(p["chat_id"] for p in fake.sent())
    assert len(delivered) == 6 and set(delivered.values()) == {1}
    assert len([c for c in fake.calls if c.failed]) == 1  # not one 429 per message
    assert PACE["lag"] <= PACE["margin"] < timedelta(seconds=1)
