"""Several buys at once: a leader's command that acts on one buy never guesses which."""

from __future__ import annotations

from models.tables import BuyStatus
from tests.conftest import say
from tests.groupbuy_helpers import the_buy, units

TWO = ("leader@demo: /open 白菜 | 50 | 100 | 2h", "leader@demo: /open 牛肉 | 800 | 100 | 2h")


def test_a_bare_close_with_two_open_buys_asks_which_and_closes_neither(console):
    say(console, *TWO)
    out = say(console, "leader@demo: /close")
    assert "#2（牛肉）" in out[0] and "#1（白菜）" in out[0] and "/close #2" in out[0]
    assert "1. #2 牛肉" in out[0]  # the buttons, as numbered lines on a channel without them
    assert the_buy(console, 1).status == the_buy(console, 2).status == BuyStatus.OPEN


def test_the_which_buy_question_is_asked_in_the_group_where_a_tap_acts(console):
    say(console, "leader: /start", *TWO)
    out = say(console, "leader@demo: /close")
    assert out[0].startswith("bot -> leader@demo: ")


def test_close_with_a_number_closes_that_buy_only(console):
    say(console, *TWO)
    assert "#1 白菜 已結單" in say(console, "leader@demo: /close #1")[0]
    assert the_buy(console, 1).status == BuyStatus.CLOSED
    assert the_buy(console, 2).status == BuyStatus.OPEN


def test_with_one_buy_left_open_a_bare_close_closes_it(console):
    say(console, *TWO, "leader@demo: /close #1")
    assert "#2 牛肉 已結單" in say(console, "leader@demo: /close")[0]


def test_a_full_width_number_names_the_buy(console):
    say(console, *TWO)
    assert "#2 牛肉 已結單" in say(console, "leader@demo: /close ＃２")[0]


def test_closing_twice_says_it_is_already_closed_and_changes_nothing(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 1 | 2h", "amy@demo: +1", "bob@demo: +1")
    say(console, "leader@demo: /close #1")
    again = say(console, "leader@demo: /close #1")
    assert len(again) == 1 and "已經結單了" in again[0]


def test_a_member_cannot_close_a_buy(console):
    say(console, *TWO)
    assert "只有團主" in say(console, "amy@demo: /close #1")[0]
    assert the_buy(console, 1).status == BuyStatus.OPEN


def test_a_buy_of_another_chat_is_not_acted_on_here(console):
    say(console, "leader@market: /bind", "leader@market: /open 鳳梨酥 | 300 | 10 | 2h",
        "leader@demo: /open 白菜 | 50 | 100 | 2h")
    out = say(console, "leader@demo: /close #1")
    assert "沒有團購 #1" in out[0] and "#2 白菜" in out[0]
    assert the_buy(console, 1).status == BuyStatus.OPEN


def test_marking_with_two_buys_asks_which_and_marks_nothing(console):
    say(console, *TWO, "amy@demo: +1 #1", "bob@demo: +1 #2")
    out = say(console, "leader@demo: /paid all")
    assert "/paid #2 all" not in out[0] and "#1（白菜）" in out[0]
    assert units(console, "paid", 1) == {} and units(console, "paid", 2) == {}
    assert "1 筆訂單標記為已付款" in say(console, "leader@demo: /paid #2 all")[0]


def test_export_with_two_buys_asks_which(console):
    say(console, *TWO, "amy@demo: +1 #1", "bob@demo: +1 #2")
    assert "#1（白菜）" in say(console, "leader@demo: /export")[0]


def test_cancelorder_of_an_order_that_does_not_exist_names_it(console):
    say(console, *TWO, "amy@demo: +1 #1")
    out = say(console, "leader@demo: /cancelorder 999")
    assert "999" in out[0] and "未做任何變更" in out[0]


def test_a_join_naming_a_buy_that_does_not_exist_lists_the_open_ones(console):
    say(console, "amy: /start", *TWO)
    out = say(console, "amy@demo: +1 #99")
    assert out[0].startswith("bot -> amy: ")  # in private, where amy started the bot
    assert "沒有團購 #99" in out[0] and "#2 牛肉" in out[0] and "#1 白菜" in out[0]


def test_cancelorder_of_a_missing_order_is_answered_privately_to_a_leader_who_started_the_bot(
        console):
    say(console, "leader: /start", "leader@demo: /open 白菜 | 50 | 100 | 2h")
    out = say(console, "leader@demo: /cancelorder 999")
    assert out[0].startswith("bot -> leader: ") and "999" in out[0]
