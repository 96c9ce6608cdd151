"""The payment and pickup commands through the real Telegram adapter, against the fake Bot API:
/unpaid, /arrived, /picked, the rating buttons and /ratings."""

from __future__ import annotations

import json

import pytest

from bot.app import App
from bot.telegram import CHANNEL, TelegramChannel
from scheduler.delivery import DeliveryWorker
from scheduler.pickup import after_close
from tests.conftest import Clock
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update
from tests.telegram_helpers import AMY, BOB, GROUP, LEADER, bound_group, feed, say, texts


async def in_group(channel: TelegramChannel, clock: Clock, text: str, user: int, name: str) -> None:
    """A group message; a minute later (a group takes twenty bot messages a minute)."""
    await say(channel, text, user, GROUP, username=name, first_name=name.title())
    clock.advance(minutes=1)


async def drain(app: App, channel: TelegramChannel, clock: Clock) -> None:
    worker = DeliveryWorker(app.deps.sessions, CHANNEL, channel.send, clock)
    for _ in range(10):
        if await worker.drain_once() == 0:
            clock.advance(seconds=2)
            if await worker.drain_once() == 0:
                return


async def closed_buy(app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock) -> None:
    await bound_group(app, channel, fake, clock)
    await in_group(channel, clock, "/open 蘋果 | 100 | 10 | 2h", LEADER, "boss")
    await in_group(channel, clock, "+2", AMY, "amy")
    await in_group(channel, clock, "+1", BOB, "bob")
    for user, name in ((LEADER, "boss"), (AMY, "amy"), (BOB, "bob")):  # the group's members
        await say(channel, "/start", user, username=name, first_name=name.title())
    await in_group(channel, clock, "/close", LEADER, "boss")
    await drain(app, channel, clock)
    fake.clear()


@pytest.mark.asyncio
async def test_unpaid_arrived_and_picked_through_telegram(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await closed_buy(app, channel, fake, clock)
    await in_group(channel, clock, "/unpaid", LEADER, "boss")
    [unpaid] = texts(fake, LEADER)  # privately: the leader started the bot
    assert "#1 蘋果 尚未付款" in unpaid and "Amy：2 份，NT$200" in unpaid

    await in_group(channel, clock, "/arrived #1 大樓管理室 週五 20:00", LEADER, "boss")
    assert texts(fake, GROUP)[-1].startswith("#1 蘋果 到貨了：請到 大樓管理室 取貨，期限 2026-03-13 20:00")
    await drain(app, channel, clock)
    assert texts(fake, AMY) == ["你的 蘋果（#1，2 份）到貨了！請在 2026-03-13 20:00 前到 大樓管理室 取貨。"]
    assert texts(fake, BOB)[0].startswith("你的 蘋果（#1，1 份）到貨了")

    await in_group(channel, clock, "/picked @amy", LEADER, "boss")
    assert texts(fake, GROUP)[-1] == "Amy 已取貨：#1 蘋果（2 份）。"


@pytest.mark.asyncio
async def test_a_rating_button_tap_rates_and_the_leader_reads_ratings_through_telegram(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await closed_buy(app, channel, fake, clock)
    await in_group(channel, clock, "/arrived #1 大門", LEADER, "boss")
    await in_group(channel, clock, "/picked @amy", LEADER, "boss")
    clock.advance(days=1)
    after_close(app.deps)
    await drain(app, channel, clock)
    ask = [p for p in fake.sent(chat_id=AMY) if "還滿意嗎" in p["text"]][0]
    markup = ask["reply_markup"]
    keyboard = json.loads(markup) if isinstance(markup, str) else markup
    buttons = [row[0]["callback_data"] for row in keyboard["inline_keyboard"]]
    assert buttons == [f"/rate #1 {k}" for k in range(1, 6)]

    fake.clear()
    await feed(channel, callback_update(900, buttons[1], AMY, AMY, 1, username="amy"))
    assert texts(fake, AMY) == ["謝謝！你給 #1 蘋果 2/5 分。"]
    await drain(app, channel, clock)
    assert texts(fake, LEADER) == ["低分提醒：Amy 給 #1 蘋果 2/5 分。"]

    await say(channel, "/ratings #1", LEADER, username="boss")
    assert texts(fake, LEADER)[-1].startswith("#1 蘋果：平均 2.0/5 分，1 人評分。")

