"""One transaction fewer per message: the answered mark rides on the next inbox write (or is
written moments later), and every answer is kept by the transaction that processes the event."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot import inbox, marks
from bot.app import App
from handlers.dispatch import MAX_INBOUND
from messages.types import Incoming, Reply
from models.db import UnitOfWork
from models.tables import InboundEvent
from tests.test_hot_path import LEASE


def _row(app: App, key: str) -> InboundEvent:
    with UnitOfWork(app.deps.sessions) as uow:
        return uow.session.execute(
            select(InboundEvent).where(InboundEvent.event_key == key)).scalar_one()


async def _answer(app: App, msg: Incoming) -> list[Reply]:
    sent: list[Reply] = []

    async def deliver(_msg: Incoming, reply: Reply) -> None:
        sent.append(reply)

    assert inbox.take(app.deps, msg, LEASE)
    assert await inbox.process(app.deps, msg, inbox.Outlet(deliver), claimed=True)
    return sent


@pytest.mark.asyncio
async def test_answered_events_are_marked_together_by_an_event_stored_once_a_batch_is_due(
        app: App) -> None:
    for n in range(marks.BATCH):
        msg = Incoming("telegram", "5151", "5151", "/help", str(n), event_key=f"mark-{n}")
        assert await _answer(app, msg)
    rows = [_row(app, f"mark-{n}") for n in range(marks.BATCH)]
    assert rows[0].answered_at is None  # not a transaction of its own
    assert rows[-1].answered_at is None  # nor carried by a write before the batch was due
    last = Incoming("telegram", "5152", "5152", "/help", "x", event_key="mark-last")
    assert inbox.take(app.deps, last, LEASE)
    rows = [_row(app, f"mark-{n}") for n in range(marks.BATCH)]
    assert all(r.answered_at is not None and r.claimed_until is None for r in rows)


@pytest.mark.asyncio
async def test_an_answered_event_with_nothing_after_it_is_marked_moments_later(app: App) -> None:
    msg = Incoming("telegram", "5153", "5153", "/help", "1", event_key="mark-alone")
    assert await _answer(app, msg)
    await asyncio.sleep(marks.ANSWERED_WITHIN * 2)  # the loop runs the write it scheduled
    assert _row(app, "mark-alone").answered_at is not None


@pytest.mark.asyncio
async def test_a_sweep_leaves_no_answered_mark_of_its_own_process_unwritten(app: App) -> None:
    msg = Incoming("telegram", "5154", "5154", "/help", "1", event_key="mark-swept")
    assert await _answer(app, msg)
    assert await inbox.recover(app.deps, {}) == 0
    assert _row(app, "mark-swept").answered_at is not None


@pytest.mark.asyncio
async def test_too_long_a_message_is_answered_and_that_answer_is_kept(app: App) -> None:
    msg = Incoming("telegram", "5155", "5155", "x" * (MAX_INBOUND + 1), "1", event_key="long")
    [reply] = await _answer(app, msg)
    row = _row(app, "long")
    assert row.processed_at is not None
    assert row.replies is not None and [r["text"] for r in row.replies] == [reply.text]
