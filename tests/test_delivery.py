"""The delivery worker drains the outbox through the real Telegram adapter at Telegram's pace.

The clock is moved by hand and every round is one `drain_once()`: no sleeping, no timing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.app import App
from bot.telegram import CHANNEL, TelegramChannel
from messages.types import Reply
from models.db import UnitOfWork
from models.outbox import claim_due
from scheduler.delivery import DeliveryWorker, reserve_direct
from tests.conftest import Clock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_helpers import AMY, BOB, GROUP, outbox, queue, say, texts


def worker_for(app: App, channel: TelegramChannel, clock: Clock, batch: int = 30) -> DeliveryWorker:
    return DeliveryWorker(app.deps.sessions, CHANNEL, channel.send, clock, batch=batch)


@pytest.mark.asyncio
async def test_pushes_to_one_private_chat_leave_one_a_second(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    for n in (1, 2, 3):
        queue(app, AMY, f"news {n}")
    worker = worker_for(app, channel, clock)
    assert await worker.drain_once() == 1
    assert await worker.drain_once() == 0  # the clock has not moved
    assert texts(fake, AMY) == ["news 1"]
    clock.advance(seconds=1)
    assert await worker.drain_once() == 1
    assert texts(fake, AMY) == ["news 1", "news 2"]
    clock.advance(seconds=1)
    assert await worker.drain_once() == 1
    assert texts(fake, AMY) == ["news 1", "news 2", "news 3"]
    assert outbox(app) == []


@pytest.mark.asyncio
async def test_a_group_gets_twenty_pushes_a_minute(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    for n in range(25):
        queue(app, GROUP, f"deal {n}", is_group=True)
    worker = worker_for(app, channel, clock)
    start = clock.now
    sent = 0
    while clock.now < start + timedelta(seconds=60):  # a group also takes one a second
        sent += await worker.drain_once()
        clock.advance(seconds=1)
    assert sent == 20 and len(texts(fake, GROUP)) == 20
    assert len(outbox(app)) == 5
    assert clock.now == start + timedelta(seconds=60)
    assert await worker.drain_once() == 1  # the first of the minute has left the window
    assert texts(fake, GROUP)[-1] == "deal 20"


@pytest.mark.asyncio
async def test_the_bot_sends_at_most_thirty_a_second_overall(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    chats = [AMY + n for n in range(40)]
    for chat in chats:
        queue(app, chat, "spring sale")
    worker = worker_for(app, channel, clock, batch=100)  # the limit, not the batch, holds it
    assert await worker.drain_once() == 30
    assert await worker.drain_once() == 0
    assert len(fake.sent()) == 30
    clock.advance(seconds=1)
    assert await worker.drain_once() == 10
    assert sorted(int(p["chat_id"]) for p in fake.sent()) == chats


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int retry_after
async def test_a_429_pauses_the_worker_for_retry_after_then_sends_once(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    queue(app, AMY, "for amy")
    queue(app, BOB, "for bob")
    fake.fail_next("sendMessage", 429, retry_after=2)
    worker = worker_for(app, channel, clock)
    assert await worker.drain_once() == 0
    assert [c.failed for c in fake.calls if c.method == "sendMessage"] == [True]
    clock.advance(seconds=1)
    assert await worker.drain_once() == 0
    assert len(fake.calls) == 2  # getMe and the refused send: nothing more was tried
    clock.advance(seconds=1)
    assert await worker.drain_once() == 2
    assert texts(fake, AMY) == ["for amy"] and texts(fake, BOB) == ["for bob"]
    clock.advance(seconds=5)
    assert await worker.drain_once() == 0
    assert [m.status for m in outbox(app, "sent")] == ["sent", "sent"]


@pytest.mark.asyncio
async def test_messages_claimed_by_a_crashed_worker_are_sent_once_after_the_lease(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    chats = [AMY, BOB, AMY + 7]
    for chat in chats:
        queue(app, chat, "restock reminder")
    with UnitOfWork(app.deps.sessions) as uow:  # a worker claims them, then dies
        claimed = claim_due(uow.session, CHANNEL, clock(), 30, timedelta(seconds=60))
        uow.commit()
    assert len(claimed) == 3

    survivor = worker_for(app, channel, clock)
    assert await survivor.drain_once() == 0  # still leased to the dead worker
    clock.advance(seconds=61)
    assert await survivor.drain_once() == 3
    clock.advance(minutes=5)
    assert await survivor.drain_once() == 0
    assert sorted(int(p["chat_id"]) for p in fake.sent()) == sorted(chats)
    assert len(outbox(app, "sent")) == 3 and outbox(app) == []


@pytest.mark.asyncio
async def test_a_member_who_blocked_the_bot_fails_the_message_without_retries(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    queue(app, AMY, "birthday coupon")
    fake.fail_next("sendMessage", error_code=403)
    worker = worker_for(app, channel, clock)
    assert await worker.drain_once() == 0
    clock.advance(minutes=10)
    assert await worker.drain_once() == 0
    assert len([c for c in fake.calls if c.method == "sendMessage"]) == 1
    [failed] = outbox(app, "failed")
    assert failed.attempts == 1 and "403" in failed.last_error
    assert outbox(app) == []


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int retry_after
async def test_a_reply_refused_with_429_waits_in_the_outbox_for_retry_after(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    fake.fail_next("sendMessage", 429, retry_after=3)
    await say(channel, "/help", AMY, username="amy")
    assert texts(fake, AMY) == []
    [waiting] = outbox(app)
    assert waiting.chat_id == str(AMY) and not waiting.is_group
    worker = worker_for(app, channel, clock)
    assert await worker.drain_once() == 0  # Telegram asked for three seconds
    clock.advance(seconds=3)
    assert await worker.drain_once() == 1
    assert texts(fake, AMY)[0].startswith("指令：")


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int retry_after
async def test_a_429_seen_by_one_worker_pauses_every_worker_and_a_restarted_one(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    queue(app, AMY, "for amy")
    queue(app, BOB, "for bob")
    fake.fail_next("sendMessage", 429, retry_after=5)
    first, second = worker_for(app, channel, clock), worker_for(app, channel, clock)
    assert await first.drain_once() == 0
    clock.advance(seconds=2)
    assert await second.drain_once() == 0
    restarted = worker_for(app, channel, clock)  # a new process knows only the database
    assert await restarted.drain_once() == 0
    assert len([c for c in fake.calls if c.method == "sendMessage"]) == 1  # only the refused one
    clock.advance(seconds=3)
    assert await second.drain_once() == 2
    assert texts(fake, AMY) == ["for amy"] and texts(fake, BOB) == ["for bob"]


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int retry_after
async def test_a_direct_group_reply_waits_while_the_bot_is_paused_by_a_429(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    queue(app, AMY, "for amy")
    fake.fail_next("sendMessage", 429, retry_after=4)
    assert await worker_for(app, channel, clock).drain_once() == 0
    assert not reserve_direct(app.deps.sessions, CHANNEL, str(GROUP), True, clock())
    clock.advance(seconds=4)
    assert reserve_direct(app.deps.sessions, CHANNEL, str(GROUP), True, clock())


class SlowClock(Clock):
    """Every reading of the clock takes 300 ms: a machine too busy to send on time."""

    def __call__(self) -> datetime:
        self.advance(milliseconds=300)
        return self.now


@pytest.mark.asyncio
async def test_a_send_never_leaves_later_than_the_lag_after_its_reservation(app: App, clock: Clock):
    queue(app, AMY, "flash sale")
    sent: list[str] = []

    async def send(chat_id: str, is_group: bool, reply: Reply) -> None:
        sent.append(chat_id)

    slow = SlowClock(clock.now)
    late = DeliveryWorker(app.deps.sessions, CHANNEL, send, slow, lag=timedelta(milliseconds=250))
    assert await late.drain_once() == 0
    assert sent == [] and len(outbox(app)) == 1  # given back, due again
    patient = DeliveryWorker(app.deps.sessions, CHANNEL, send, slow, lag=timedelta(seconds=1))
    slow.advance(seconds=1)  # the per-chat window of the unused reservation has passed
    assert await patient.drain_once() == 1 and sent == [str(AMY)]
