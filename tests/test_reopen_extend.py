"""/reopen #N puts a closed buy back (before delivery), /extend #N DEADLINE moves its deadline;
both said in the group, both refused clearly and without a change on bad input."""

from __future__ import annotations

from models.tables import BuyStatus
from tests.conftest import say
from tests.groupbuy_helpers import stock_consistent, the_buy, units

ONE_LEFT = ("amy: /start", "bob: /start", "leader@demo: /open 蘋果 | 100 | 1 | 2h",
            "amy@demo: +1", "bob@demo: +1")


def test_reopen_puts_a_closed_buy_back_with_its_orders_and_its_waitlist(console):
    say(console, *ONE_LEFT, "leader@demo: /close")
    out = say(console, "leader@demo: /reopen #1")
    assert any(line.startswith("bot -> leader@demo: 團購 #1 蘋果 重新開放，截止 2026-03-10 14:00（週二）")
               and "1 筆候補恢復排隊" in line for line in out)
    assert any(line.startswith("bot -> bob: #1 蘋果 重新開放") for line in out)
    assert the_buy(console).status == BuyStatus.OPEN
    assert units(console, "allocated") == {"amy": 1} and units(console, "waitlisted") == {"bob": 1}
    stock_consistent(console)


def test_after_a_reopen_the_waitlist_is_served_in_order_again(console):
    say(console, *ONE_LEFT, "cat@demo: +1", "leader@demo: /close", "leader@demo: /reopen #1")
    say(console, "amy@demo: /cancel")
    assert units(console, "allocated") == {"bob": 1} and units(console, "waitlisted") == {"cat": 1}
    stock_consistent(console)


def test_reopen_after_the_deadline_needs_a_new_one_and_echoes_it(console, clock):
    say(console, *ONE_LEFT, "leader@demo: /close")
    clock.advance(hours=3)
    refused = say(console, "leader@demo: /reopen #1")
    assert "截止時間已過" in refused[0] and the_buy(console).status == BuyStatus.CLOSED
    out = say(console, "leader@demo: /reopen #1 明天 20:00")
    assert "截止 2026-03-11 20:00（週三）" in out[0]


def test_a_delivered_buy_cannot_be_reopened(console):
    say(console, *ONE_LEFT, "leader@demo: /close", "leader@demo: /delivered all #1")
    assert "已有訂單到貨" in say(console, "leader@demo: /reopen #1")[0]
    assert the_buy(console).status == BuyStatus.CLOSED


def test_reopening_twice_says_it_is_open_and_changes_nothing(console):
    say(console, *ONE_LEFT, "leader@demo: /close", "leader@demo: /reopen #1")
    again = say(console, "leader@demo: /reopen #1")
    assert len(again) == 1 and "仍在進行中" in again[0]
    assert units(console, "waitlisted") == {"bob": 1}


def test_a_member_cannot_reopen_or_extend(console):
    say(console, *ONE_LEFT, "leader@demo: /close")
    assert "只有團主" in say(console, "amy@demo: /reopen #1")[0]
    assert "只有團主" in say(console, "amy@demo: /extend #1 明天 20:00")[0]
    assert the_buy(console).status == BuyStatus.CLOSED


def test_reopen_and_extend_are_said_in_the_group(console):
    say(console, "leader: /start", "leader@demo: /open 蘋果 | 100 | 1 | 2h")
    assert "請在團購群組裡" in say(console, "leader: /extend #1 明天 20:00")[0]
    assert say(console, "leader@demo: /extend #1 明天 20:00")[0].startswith("bot -> leader@demo: ")


def test_with_two_closed_buys_reopen_asks_which(console):
    say(console, "leader@demo: /open 白菜 | 50 | 100 | 2h", "leader@demo: /open 牛肉 | 800 | 100 | 2h",
        "leader@demo: /close #1", "leader@demo: /close #2")
    out = say(console, "leader@demo: /reopen")
    assert "/reopen #2" in out[0] and "#1（白菜）" in out[0]
    assert the_buy(console, 1).status == the_buy(console, 2).status == BuyStatus.CLOSED


def test_reopen_of_a_buy_that_does_not_exist_names_it(console):
    assert "沒有團購 #7" in say(console, "leader@demo: /reopen #7")[0]


def test_extend_moves_the_deadline_and_echoes_the_date(console, clock):
    say(console, "leader@demo: /open 蘋果 | 100 | 5 | 2h")
    assert "截止時間改為 2026-12-20 20:00（週日）" in say(console, "leader@demo: /extend #1 12/20 20:00")[0]
    clock.advance(hours=5)
    say(console, "amy@demo: +1")
    assert units(console, "allocated") == {"amy": 1}


def test_extend_with_a_full_width_number_and_no_number_with_one_buy(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 5 | 2h")
    assert "2026-03-11 20:00" in say(console, "leader@demo: /extend ＃１ 明天 20:00")[0]
    assert "2026-03-11 21:00" in say(console, "leader@demo: /extend 明天 21:00")[0]


def test_extend_refuses_a_missing_an_unreadable_or_a_past_deadline(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 5 | 2h")
    before = the_buy(console).deadline
    assert "用法：/extend" in say(console, "leader@demo: /extend #1")[0]
    assert "用法：/extend" in say(console, "leader@demo: /extend #1 someday")[0]
    assert "已經過了" in say(console, "leader@demo: /extend #1 2026-03-01 20:00")[0]
    assert "用法：/extend" in say(console, "leader@demo: /extend #1 -3h")[0]
    assert the_buy(console).deadline == before


def test_extending_a_closed_buy_says_it_is_closed(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 5 | 2h", "leader@demo: /close")
    assert "已經結單了" in say(console, "leader@demo: /extend #1 明天 20:00")[0]
