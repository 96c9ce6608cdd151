"""Members hear about their points: a grant, a deduction, a tier set by hand, a referral reward
taken back — privately, in their own language, once per ledger entry; /usepoints with too few
points says how many there are."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.console import ConsoleChannel
from bot.telegram import CHANNEL, TelegramChannel
from models.tables import OutboxMessage, PointsEntry, TierChange
from scheduler.delivery import DeliveryWorker
from tests.conftest import Clock, say
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.groupbuy_helpers import count, fetch, member, orders_of, referral_code, started
from tests.telegram_helpers import AMY, GROUP, LEADER, bound_group, member_of, texts
from tests.telegram_helpers import say as tg_say

APPLES = "/open 有機蘋果 | 350 | 3 | 2h"


def pushes_to(out: list[str], who: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in out if line.startswith(f"bot -> {who}: ")]


def test_a_grant_tells_the_member_privately_why_in_their_language(console: ConsoleChannel):
    say(console, "amy: /start", "amy: /lang en")
    out = say(console, "leader@demo: /grant @amy 120 welcome gift")
    assert out[0].startswith("bot -> leader@demo: 已贈送 120 點給 amy（welcome gift）")
    assert pushes_to(out, "amy") == [
        "The leader gave you 120 points (welcome gift). Your balance: 120 points."]


def test_a_deduction_tells_the_member_in_simplified_chinese(console: ConsoleChannel):
    say(console, "amy: /start", "amy: /lang 简体", "leader@demo: /grant @amy 50 gift")
    out = say(console, "leader@demo: /deduct @amy 20 typo")
    assert pushes_to(out, "amy") == ["团主扣除了你 20 积分（原因：typo）。目前余额：30 积分。"]


def test_a_tier_set_by_hand_tells_the_member_old_and_new_tier_and_why(console: ConsoleChannel):
    say(console, "amy: /start")
    out = say(console, "leader@demo: /settier @amy 銀 loyal customer")
    assert pushes_to(out, "amy") == ["團主將你的會員等級從「銅」調整為「銀」（原因：loyal customer）。"]


def test_a_member_who_cannot_be_reached_is_not_told_and_the_leader_hears_so(console):
    say(console, "amy@demo: hello")  # in the group only, never started the bot
    out = say(console, "leader@demo: /grant @amy 10 hi")
    assert len(out) == 1 and "無法私下通知 amy" in out[0]
    assert count(console, OutboxMessage) == 0
    assert member(console, "amy").points_balance == 10


def test_full_width_numbers_grant_the_same_points(console: ConsoleChannel):
    started(console, "amy")
    out = say(console, "leader@demo: /grant @amy １２０ gift")
    assert member(console, "amy").points_balance == 120
    assert pushes_to(out, "amy") == ["團主贈送你 120 點積分（原因：gift）。目前餘額：120 點。"]


def test_a_double_tapped_grant_is_granted_once_and_the_leader_is_told(console: ConsoleChannel):
    started(console, "amy")
    first = say(console, "leader@demo: /grant @amy 30 nice photo")
    again = say(console, "leader@demo: /grant @amy 30 nice photo")
    assert again == ["bot -> leader@demo: 剛剛已贈送 30 點給 amy（nice photo），這次沒有重複贈送。"
                     "若要再送一次，請寫另一個原因。"]
    assert member(console, "amy").points_balance == 30 and len(pushes_to(first, "amy")) == 1
    assert count(console, PointsEntry) == 1


def test_the_same_grant_a_few_minutes_later_counts_again(console: ConsoleChannel, clock: Clock):
    started(console, "amy")
    say(console, "leader@demo: /grant @amy 30 nice photo")
    clock.advance(minutes=5)
    out = say(console, "leader@demo: /grant @amy 30 nice photo")
    assert member(console, "amy").points_balance == 60 and len(pushes_to(out, "amy")) == 1


def test_a_double_tapped_settier_changes_once_and_tells_once(console: ConsoleChannel):
    started(console, "amy")
    say(console, "leader@demo: /settier @amy 銀 loyal")
    again = say(console, "leader@demo: /settier @amy 銀 loyal")
    assert again == ["bot -> leader@demo: amy 已經是「銀」會員，沒有變更。"]
    assert count(console, TierChange) == 1


def test_bad_input_tells_nobody_and_changes_nothing(console: ConsoleChannel):
    started(console, "amy", "bob")
    for line in ("amy@demo: /grant @bob 100 free", "leader@demo: /settier @amy platinum x",
                 "leader@demo: /grant @amy -5 oops", "leader@demo: /deduct @amy 5 too much"):
        say(console, line)
    assert count(console, OutboxMessage) == 0  # nobody was told anything
    assert count(console, PointsEntry) == 0 and count(console, TierChange) == 0


def test_a_reversed_referral_reward_tells_both_sides(console: ConsoleChannel):
    started(console, "amy")
    say(console, "amy: /lang en")
    say(console, f"bob: /start ref_{referral_code(console, 'amy')}")
    say(console, f"leader@demo: {APPLES}", "bob@demo: +1", "leader@demo: /delivered all")
    out = say(console, f"leader@demo: /cancelorder {orders_of(console, 'bob')[0].id}")
    assert ("The first order of bob, whom you invited, was refunded: the 100 referral points "
            "were taken back. Your balance: 0 points.") in pushes_to(out, "amy")
    assert "你的推薦獎勵 50 點已收回（首筆訂單已退款）。目前餘額：0 點。" in pushes_to(out, "bob")


def test_a_reversed_referral_reward_beyond_the_balance_says_what_is_owed(console):
    started(console, "amy")
    say(console, f"bob: /start ref_{referral_code(console, 'amy')}")
    say(console, f"leader@demo: {APPLES}", "bob@demo: +1", "leader@demo: /delivered all",
        "leader@demo: /deduct @amy 60 spent")
    out = say(console, f"leader@demo: /cancelorder {orders_of(console, 'bob')[0].id}")
    [told] = [p for p in pushes_to(out, "amy") if "推薦" in p]
    assert "其中 60 點將從之後獲得的積分扣回" in told


def test_usepoints_with_too_few_points_says_how_many_there_are(console: ConsoleChannel):
    started(console, "amy")
    say(console, "leader@demo: /grant @amy 12 gift", f"leader@demo: {APPLES}", "amy@demo: +1")
    out = say(console, "amy: /usepoints 30")
    assert out == ["bot -> amy: 你目前只有 12 點積分，不夠折抵 30 點。輸入 /usepoints 12 可全部使用。"]
    assert orders_of(console, "amy")[0].points_used == 0
    assert member(console, "amy").points_balance == 12


def test_usepoints_with_no_points_says_there_are_none(console: ConsoleChannel):
    say(console, "amy: /start", "amy: /lang en", f"leader@demo: {APPLES}", "amy@demo: +1")
    assert say(console, "amy: /usepoints 30") == ["bot -> amy: You have no points to use yet."]
    assert fetch(console, select(PointsEntry.id)) == []


@pytest.mark.asyncio
async def test_a_grant_reaches_the_member_privately_on_telegram(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    await tg_say(channel, "/me", AMY, GROUP, username="amy", first_name="Amy")
    await tg_say(channel, "/start", AMY, username="amy", first_name="Amy")
    await tg_say(channel, "/lang en", AMY, username="amy", first_name="Amy")
    fake.clear()
    clock.advance(seconds=2)
    await tg_say(channel, "/grant @amy 50 thanks", LEADER, GROUP, username="boss")
    assert texts(fake, GROUP)[-1].startswith("已贈送 50 點給 Amy（thanks）")
    worker = DeliveryWorker(app.deps.sessions, CHANNEL, channel.send, clock)
    assert await worker.drain_once() == 1
    assert texts(fake, AMY) == ["The leader gave you 50 points (thanks). Your balance: 50 points."]
    assert member_of(app, AMY).points_balance == 50
