"""Smaller group-buy behaviours: picking a buy by number, refusals kept out of the group."""

from __future__ import annotations

from tests.conftest import say


def test_plus_one_with_a_number_joins_that_group_buy(console):
    say(console, "amy: /start", "leader@demo: /open 蘋果 | 100 | 5 | 2h",
        "leader@demo: /open 香蕉 | 50 | 5 | 2h")
    say(console, "amy@demo: +1 #1")
    out = say(console, "amy: /orders")
    assert "#1 蘋果 × 1" in out[0] and "香蕉" not in out[0]


def test_a_refusal_goes_to_private_once_the_member_started_the_bot(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 5 | 2h | - | - | 1")
    in_group = say(console, "bob@demo: +5")
    assert in_group[0].startswith("bot -> bob@demo: ")  # bob cannot be reached privately yet
    say(console, "amy: /start", "amy@demo: +1")
    refused = say(console, "amy@demo: +1")
    assert refused[0].startswith("bot -> amy: ") and "限購 1 份" in refused[0]


def test_with_two_group_buys_the_leader_is_asked_which_one(console):
    say(console, "leader@demo: /open 白菜 | 50 | 100 | 2h", "leader@demo: /open 牛肉 | 800 | 100 | 2h",
        "amy@demo: +1 #1", "bob@demo: +1")
    out = say(console, "leader@demo: /delivered all")
    assert "#2（牛肉）" in out[0] and "#1（白菜）" in out[0]
    assert "1 筆訂單標記為已到貨" in say(console, "leader@demo: /delivered all #2")[0]
    # order numbers are enough to know the group buy
    assert "#1 白菜：1 筆訂單標記為已付款" in say(console, "leader@demo: /paid 1")[0]


def test_a_member_cancels_in_the_group_buy_they_joined(console):
    say(console, "leader@demo: /open 白菜 | 50 | 100 | 2h", "leader@demo: /open 牛肉 | 800 | 100 | 2h",
        "amy@demo: +1 #1")
    assert "#1 白菜 的 1 份" in say(console, "amy@demo: /cancel")[0]


def test_tier_prices_in_taiwan_dollars_are_whole_dollars(console):
    say(console, "amy: /start", "leader@demo: /settier @amy silver loyal",
        "leader@demo: /open 小菜 | 33 | 10 | 2h", "amy@demo: +1")
    out = say(console, "amy: /orders")
    assert "NT$31 ·" in out[0] and "NT$31.35" not in out[0]
