"""/reopen and /extend through the real Telegram adapter: the 'which buy' buttons, a tap on
one (a callback query) acting on that buy, and the answer in the group."""

from __future__ import annotations

import itertools

import pytest

from bot.app import App
from bot.telegram import TelegramChannel
from models.tables import BuyStatus
from tests.conftest import Clock
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update
from tests.groupbuy_helpers import the_buy
from tests.telegram_helpers import GROUP, LEADER, bound_group, feed, say, texts

_taps = itertools.count(9000)


async def _two_buys(channel: TelegramChannel, clock: Clock, *then: str) -> None:
    for line in ("/open 白菜 | 50 | 100 | 2h", "/open 牛肉 | 800 | 100 | 2h", *then):
        await say(channel, line, LEADER, GROUP, username="boss")
        clock.advance(minutes=1)


def _buttons(fake: FakeTelegramAPI) -> list[tuple[str, str]]:
    markup = fake.sent(chat_id=GROUP)[-1]["reply_markup"]
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


async def _tap(channel: TelegramChannel, data: str) -> None:
    await feed(channel, callback_update(next(_taps), data, LEADER, GROUP, 1, username="boss"))


@pytest.mark.asyncio
async def test_telegram_reopen_asks_which_buy_with_buttons_and_a_tap_reopens_it(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    await _two_buys(channel, clock, "/close #1", "/close #2")
    fake.clear()
    await say(channel, "/reopen", LEADER, GROUP, username="boss")
    assert _buttons(fake) == [("#2 牛肉", "/reopen #2"), ("#1 白菜", "/reopen #1")]
    assert the_buy(app, 1).status == the_buy(app, 2).status == BuyStatus.CLOSED
    clock.advance(minutes=1)
    await _tap(channel, "/reopen #1")
    assert texts(fake, GROUP)[-1].startswith("團購 #1 白菜 重新開放，截止 2026-03-10 14:01（週二）")
    assert the_buy(app, 1).status == BuyStatus.OPEN and the_buy(app, 2).status == BuyStatus.CLOSED
    clock.advance(minutes=1)
    await _tap(channel, "/reopen #1")  # the same button again: a double tap
    assert "仍在進行中" in texts(fake, GROUP)[-1]


@pytest.mark.asyncio
async def test_telegram_extend_asks_which_buy_and_a_tap_moves_that_deadline(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    await _two_buys(channel, clock)
    fake.clear()
    await say(channel, "/extend 明天 20:00", LEADER, GROUP, username="boss")
    assert _buttons(fake) == [("#2 牛肉", "/extend #2 明天 20:00"), ("#1 白菜", "/extend #1 明天 20:00")]
    clock.advance(minutes=1)
    await _tap(channel, "/extend #2 明天 20:00")
    assert texts(fake, GROUP)[-1] == "團購 #2 牛肉 截止時間改為 2026-03-11 20:00（週三）。"
    assert the_buy(app, 1).deadline < the_buy(app, 2).deadline
