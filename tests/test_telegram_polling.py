"""Our own long polling (bot.polling): a batch of updates is confirmed to Telegram (the next
getUpdates' offset) only once every update is in the inbox; one that cannot be stored is
asked for again, and given up after a few tries so that it cannot stop the bot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import text

from bot import polling
from bot.app import App
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_helpers import make_channel, message


def _offsets(fake: FakeTelegramAPI) -> list[int]:
    return [int(c.params.get("offset") or 0) for c in fake.calls if c.method == "getUpdates"]


async def _polling(app: App, fake: FakeTelegramAPI,
                   until: Callable[[], bool]) -> None:
    channel = make_channel(app, fake)
    stop = asyncio.Event()
    async with channel.app:
        task = asyncio.create_task(polling.poll(channel, stop, timeout=1))
        try:
            await fake.wait_for_async(lambda _f: until(), timeout=30)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)


@pytest.mark.asyncio
async def test_a_batch_is_confirmed_once_its_updates_are_stored_and_each_is_answered_once(
        app: App) -> None:
    with FakeTelegramAPI() as fake:
        batch = [message("/help", user) for user in (7101, 7102, 7103)]
        for update in batch:
            fake.push_update(update)
        last = max(u["update_id"] for u in batch)
        await _polling(app, fake, lambda: max(_offsets(fake), default=0) > last)
        for user in (7101, 7102, 7103):
            assert len(fake.sent(chat_id=user)) == 1
        assert last + 1 in _offsets(fake)


@pytest.mark.asyncio
async def test_an_update_that_cannot_be_stored_is_asked_for_again_then_given_up(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polling, "RETRY_AFTER", 0.01)
    update = message("/help", 7201)
    with app.engine.begin() as connection:  # the inbox is away: nothing can be stored
        connection.execute(text("ALTER TABLE inboundevent RENAME TO inboundevent_away"))
    try:
        with FakeTelegramAPI() as fake:
            fake.push_update(update)
            await _polling(app, fake, lambda: max(_offsets(fake), default=0) > update["update_id"])
            asked = [o for o in _offsets(fake) if o == update["update_id"]]
            assert len(asked) >= polling.MAX_TRIES - 1  # asked for again, not confirmed
            assert fake.sent(chat_id=7201) == []
    finally:
        with app.engine.begin() as connection:
            connection.execute(text("ALTER TABLE inboundevent_away RENAME TO inboundevent"))

