"""A delivery worker killed (kill -9) in the middle of a platform call.

Its message may or may not have left: a later worker sends it again once the lease runs out,
and says so, with the outbox id, so the possible duplicate can be found.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from messages.records import reply_record
from messages.types import Reply
from models import events
from models.db import UnitOfWork, session_factory
from models.tables import OutboxMessage
from scheduler.delivery import DeliveryWorker
from tests.conftest import Clock
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
        message = events.enqueue(uow.session, CHANNEL, "4242", reply_record(Reply("restock")),
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
