"""The distributor card through the real Telegram adapter, against the fake Bot API: a member
applies, the leader approves, the member's /distributor answers in private with the
Telegram referral link."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.telegram import TelegramChannel
from tests.conftest import Clock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_helpers import AMY, GROUP, LEADER, bound_group, member_of, say, texts


@pytest.mark.asyncio
async def test_apply_approve_and_the_distributor_card_through_telegram(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    await say(channel, "/start", LEADER, username="boss", first_name="Boss")
    await say(channel, "大家好", AMY, GROUP, username="amy", first_name="Amy")
    await say(channel, "/start", AMY, username="amy", first_name="Amy")
    await say(channel, "/apply 我有媽媽群", AMY, username="amy", first_name="Amy")
    assert texts(fake, AMY)[-1] == "已收到你的分銷商申請，團主審核後會在這裡通知你。"
    clock.advance(minutes=1)
    await say(channel, "/approve @amy", LEADER, GROUP, username="boss", first_name="Boss")
    assert texts(fake, GROUP)[-1] == "Amy：分銷商已核准。"
    clock.advance(minutes=1)
    await say(channel, "/distributor", AMY, GROUP, username="amy", first_name="Amy")
    card = texts(fake, AMY)[-1]  # in private: Amy started the bot
    code = member_of(app, AMY).referral_code
    assert card.startswith("Amy · 分銷商\n專屬連結：https://t.me/")
    assert f"?start=ref_{code}" in card and "待確認佣金：NT$0" in card
    assert "第 1／3 級，5%" in card and "再 NT$10,000 業績可達 8%" in card
