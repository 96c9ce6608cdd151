"""A delivery worker killed (kill -9) in the middle of a platform call, or of a campaign.

Its message may or may not have left: a later worker sends it again once the lease runs out,
and says so, with the outbox id, so the possible duplicate can be found.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from messages.records import reply_record
from messages.types import Reply
from models import outbox
from models.db import UnitOfWork, make_engine, session_factory
from models.tables import OutboxMessage
from scheduler.delivery import DeliveryWorker
from tests.conftest import Clock
from tests.crash_helpers import BotProcess, campaign, database, open_outbox, telegram_env, wait_until
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.pacing_helpers import CHANNEL, reachable, real_clock, send_and_hang, spawn, wait_for


@pytest.fixture
def shared(db: Engine, tmp_path: Path) -> Engine:
    return reachable(db, tmp_path)


@pytest.mark.asyncio
async def test_a_message_sent_again_after_a_worker_died_mid_send_is_logged_in_doubt(
    shared: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    sessions = session_factory(shared)
    with UnitOfWork(sessions) as uow:
        message = outbox.enqueue(uow.session, CHANNEL, "4242", reply_record(Reply("restock")),
                                 real_clock())
        uow.commit()
    assert message is not None
    started = tmp_path / "send-started"
    worker = spawn(send_and_hang, shared.url.render_as_string(hide_password=False), str(started))
    try:
        wait_for(started)
        with sessions() as session:
            assert session.get(OutboxMessage, message.id).status == "sending"  # type: ignore[union-attr]
    finally:
        worker.kill()  # SIGKILL: no cleanup, no rollback of anything
        worker.join(timeout=30)

    sent: list[str] = []

    async def send(chat_id: str, is_group: bool, reply: Reply) -> None:
        sent.append(chat_id)

    clock = Clock(real_clock())
    survivor = DeliveryWorker(sessions, CHANNEL, send, clock)
    assert await survivor.drain_once() == 0  # still leased to the dead worker
    clock.advance(minutes=5)  # the lease has run out
    with caplog.at_level(logging.WARNING, logger="scheduler.delivery"):
        assert await survivor.drain_once() == 1
    assert sent == ["4242"]
    assert f"outbox {message.id} in doubt" in caplog.text
    with sessions() as session:
        row = session.get(OutboxMessage, message.id)
        assert row is not None and row.status == "sent" and row.last_error.startswith("in doubt")
    clock.advance(minutes=5)
    assert await survivor.drain_once() == 0 and sent == ["4242"]


COUNT = 2000


def outbox_ids(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {chat: id_ for id_, chat in connection.execute(
                select(OutboxMessage.id, OutboxMessage.chat_id))}
    finally:
        engine.dispose()


def test_a_worker_killed_mid_campaign_leaves_every_member_one_message_but_one_in_doubt(
    tmp_path: Path
):
    """2,000 pushes queued through notify; `tuanbot run` killed (SIGKILL) in the middle of
    sending them and started again: each member gets the message once, except at most the
    one whose send was under way (in doubt), which the restarted worker logs by its id."""
    with FakeTelegramAPI() as fake, database(tmp_path) as url:
        chats = campaign(url, tmp_path / "home", COUNT)
        bot = BotProcess(tmp_path, url, **telegram_env(
            fake, TELEGRAM_LIMITS="bot=100/1s", TUANBOT_DELIVERY_LEASE="3"))
        try:
            bot.start()
            wait_until(lambda: len(fake.sent()) >= COUNT // 4, "a quarter sent", log=bot.log)
            bot.kill()
            assert len(fake.sent()) < COUNT  # killed in the middle
            bot.start()
            wait_until(lambda: open_outbox(url) == 0, "the rest sent", timeout=240, log=bot.log)
        finally:
            bot.stop()
        ids = outbox_ids(url)
        received = Counter(str(params["chat_id"]) for params in fake.sent())
    assert set(received) == set(chats)  # everyone got it
    twice = [chat for chat, times in received.items() if times > 1]
    assert len(twice) <= 1 and max(received.values()) <= 2  # one killed worker: one in doubt
    for chat in twice:
        assert f"outbox {ids[chat]} in doubt" in bot.log(2)
