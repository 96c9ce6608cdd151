"""Tier-only buys (專屬團購): open to a tier and above for their whole life; anyone else hears
which tier it needs and what is missing to reach it, and nothing is written."""

from __future__ import annotations

import pytest

from bot.console import ConsoleChannel
from models.rules.tiers import DEFAULT_TIERS, Gap, gap_to
from models.tables import Conversation, GroupBuy, Order
from tests.conftest import Clock, say
from tests.groupbuy_helpers import count, orders_of, the_buy

GOLD_ONLY = "/open 和牛 | 1200 | 5 | 2h | - | - | - | 金 專屬"


def test_the_gap_to_a_tier_counts_from_the_tier_asked_for_not_the_next():
    assert gap_to("gold", 100_000, 1, DEFAULT_TIERS) == Gap("gold", 700_000, 2)
    assert gap_to("silver", 0, 0, DEFAULT_TIERS) == Gap("silver", 300_000, None)
    assert gap_to("gold", 900_000, 0, DEFAULT_TIERS) == Gap("gold", 0, 3)


@pytest.mark.parametrize("word", ["金 專屬", "金 专属", "gold only", "金 only", "Gold ONLY", "金 限定"])
def test_every_way_of_writing_tier_only_opens_an_exclusive_buy(console: ConsoleChannel, word):
    say(console, f"leader@demo: /open 和牛 | 1200 | 5 | 2h | - | - | - | {word}")
    buy = the_buy(console)
    assert (buy.exclusive_tier, buy.early_tier) == ("gold", None)


def test_the_opened_text_and_the_roster_say_it_is_exclusive(console: ConsoleChannel):
    out = say(console, f"leader@demo: {GOLD_ONLY}")
    assert "「金」以上會員專屬團購" in out[0]
    assert any(line.startswith("bot -> @demo: 🛒 #1 和牛") and "「金」以上會員專屬" in line
               for line in out)


def test_a_member_below_the_tier_hears_what_is_missing_and_nothing_is_written(console):
    say(console, f"leader@demo: {GOLD_ONLY}", "amy: /start")
    out = say(console, "amy@demo: +1")
    assert out == ["bot -> amy: #1 和牛 是「金」以上會員專屬團購，你目前是「銅」。"
                   "再消費 NT$8,000 或再邀請 3 位好友完成購買，即可升級為「金」。"]
    assert count(console, Order) == 0
    assert the_buy(console).allocated == 0


def test_an_english_member_hears_it_in_english(console: ConsoleChannel):
    say(console, "amy: /lang en", "leader@demo: /settier @amy silver loyal",
        f"leader@demo: {GOLD_ONLY}")
    out = say(console, "amy@demo: +2")
    assert out == ["bot -> amy: #1 和牛 is only for Gold members and above; you are Silver. "
                   "Spend NT$8,000 more or invite 3 more friends who buy to reach Gold."]
    assert count(console, Order) == 0


def test_a_member_of_the_tier_or_above_joins_for_the_whole_life_of_the_buy(console, clock: Clock):
    say(console, "amy@demo: hi", "leader@demo: /settier @amy 鑽石 vip", f"leader@demo: {GOLD_ONLY}")
    clock.advance(minutes=90)  # no early window that ends: still exclusive
    say(console, "amy@demo: +1", "bob@demo: +1")
    assert [o.quantity for o in orders_of(console, "amy")] == [1]
    assert orders_of(console, "bob") == []


def test_the_guided_flow_takes_tier_only_in_the_last_step(console: ConsoleChannel):
    say(console, "leader@demo: /open", "leader@demo: X", "leader@demo: 100", "leader@demo: -",
        "leader@demo: 2h", "leader@demo: -", "leader@demo: -", "leader@demo: -")
    bad = say(console, "leader@demo: 金 forever")
    assert "格式不正確" in bad[0] and count(console, GroupBuy) == 0
    out = say(console, "leader@demo: gold only")
    assert "「金」以上會員專屬團購" in out[0]
    assert the_buy(console).exclusive_tier == "gold" and count(console, Conversation) == 0


def test_an_unknown_tier_opens_nothing(console: ConsoleChannel):
    out = say(console, "leader@demo: /open 和牛 | 1200 | 5 | 2h | - | - | - | 白金 專屬")
    assert "格式不正確" in out[0] and count(console, GroupBuy) == 0
