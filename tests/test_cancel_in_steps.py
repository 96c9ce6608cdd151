"""Members change their mind in steps: '/cancel #N 1' or '-1' takes one unit off, newest line
first; the freed unit serves the waitlist in order; '/cancel' alone cancels it all."""

from __future__ import annotations

from models.tables import LineStatus
from tests.conftest import say
from tests.groupbuy_helpers import ledgers_balance, member, orders_of, stock_consistent, units


def test_cancel_one_takes_one_unit_off_and_serves_the_waitlist(console):
    say(console, "amy: /start", "bob: /start", "leader@demo: /open 蘋果 | 100 | 3 | 2h",
        "amy@demo: +3", "bob@demo: +1")
    out = say(console, "amy@demo: /cancel #1 1")
    assert any("已取消你在 #1 蘋果 的 1 份" in line for line in out)
    assert any(line.startswith("bot -> bob: 好消息") for line in out)
    assert units(console, "allocated") == {"amy": 2, "bob": 1}
    [line] = orders_of(console, "amy")
    assert line.quantity == 2 and line.list_price == 20_000 and line.net <= 20_000
    stock_consistent(console)


def test_minus_one_in_the_chat_takes_one_unit_off_the_newest_line(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h", "amy@demo: +1", "amy@demo: +2")
    say(console, "amy@demo: -1")
    assert [o.quantity for o in orders_of(console, "amy")] == [1, 1]
    say(console, "amy@demo: －１")
    assert [(o.quantity, o.status) for o in orders_of(console, "amy")] == [
        (1, LineStatus.ALLOCATED), (1, LineStatus.CANCELLED)]
    stock_consistent(console)


def test_minus_one_with_words_around_it_is_chatter(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h", "amy@demo: +2")
    assert say(console, "amy@demo: -1度", "amy@demo: 今天 -1 度", "amy@demo: -1 哈哈") == []
    assert units(console, "allocated") == {"amy": 2}


def test_a_bare_minus_one_with_nothing_to_cancel_gets_no_reply_in_the_group(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h")
    assert say(console, "amy@demo: -1") == []


def test_a_waiting_line_is_shortened_first_and_frees_no_stock(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 2 | 2h", "amy@demo: +3")
    say(console, "amy@demo: /cancel 1")
    assert units(console, "allocated") == {"amy": 2} and units(console, "waitlisted") == {}
    stock_consistent(console)


def test_cancel_without_a_number_still_cancels_the_whole_order(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h", "amy@demo: +3")
    assert "的 3 份" in say(console, "amy@demo: /cancel")[0]
    assert units(console, "allocated") == {}


def test_cancelling_more_than_held_or_a_bad_number_changes_nothing(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h", "amy@demo: +2")
    assert "只有 2 份" in say(console, "amy@demo: /cancel 5")[0]
    for bad in ("/cancel 0", "/cancel -1", "/cancel two", "/cancel 1.5", "/cancel ٣"):
        assert "用法：/cancel" in say(console, f"amy@demo: {bad}")[0], bad
    assert units(console, "allocated") == {"amy": 2}


def test_full_width_units_are_read(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h", "amy@demo: +3")
    say(console, "amy@demo: /cancel ＃１ ２")
    assert units(console, "allocated") == {"amy": 1}


def test_points_on_a_shortened_line_stay_while_they_fit_and_the_rest_go_back(console):
    say(console, "amy: /start", "leader@demo: /grant @amy 500 hi",
        "leader@demo: /open 蘋果 | 100 | 10 | 2h", "amy@demo: +3", "amy: /usepoints 250")
    [line] = orders_of(console, "amy")
    assert line.points_used == 250
    say(console, "amy@demo: /cancel 2")  # 100 left to pay: at most 100 points fit
    [line] = orders_of(console, "amy")
    assert line.quantity == 1 and line.points_used == 100 and line.net == 0
    assert member(console, "amy").points_balance == 500 - 100
    ledgers_balance(console)


def test_after_the_deadline_a_step_cancel_is_refused(console, clock):
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h", "amy@demo: +2")
    clock.advance(hours=3)
    assert "#1 蘋果 已結單" in say(console, "amy@demo: /cancel 1")[0]
    assert units(console, "allocated") == {"amy": 2}
