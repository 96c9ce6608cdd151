"""Payment and pickup through the console: /unpaid, /arrived, /picked, /rate, /ratings."""

from __future__ import annotations

from sqlalchemy import select

from models.tables import GroupBuy, Order, Rating
from tests.conftest import say
from tests.groupbuy_helpers import count, fetch, orders_of, started

OPEN = "leader@demo: /open 蘋果 | 100 | 10 | 2h"


def two_joined(console, close: bool = True) -> None:
    started(console, "amy", "bob", "leader")
    say(console, OPEN, "amy@demo: +2", "bob@demo: +1")
    if close:
        say(console, "leader@demo: /close")


def arrived(console) -> None:
    two_joined(console)
    say(console, "leader@demo: /arrived #1 大樓管理室 週五 20:00")


def test_unpaid_lists_each_member_units_and_amount_to_the_leader_in_private(console):
    two_joined(console, close=False)
    say(console, "leader@demo: /paid 2")
    [answer] = say(console, "leader@demo: /unpaid")
    assert answer.startswith("bot -> leader: #1 蘋果 尚未付款")
    assert "amy：2 份，NT$200" in answer and "bob" not in answer and "共 1 人，NT$200" in answer


def test_unpaid_names_a_missing_buy_and_lists_those_it_could_mean(console):
    two_joined(console)
    [answer] = say(console, "leader@demo: /unpaid #99")
    assert "沒有可以這樣做的 #99 團購" in answer and "#1（蘋果）" in answer


def test_without_a_number_and_two_buys_unpaid_asks_which_one_and_changes_nothing(console):
    two_joined(console, close=False)
    say(console, "leader@demo: /open 鳳梨酥 | 50 | 10 | 2h", "amy@demo: +1 #2")
    [answer] = say(console, "leader@demo: /unpaid")
    assert "加上團號" in answer and "#2（鳳梨酥）" in answer and "#1（蘋果）" in answer


def test_a_member_may_not_use_the_leader_commands(console):
    arrived(console)
    for line in ("amy@demo: /unpaid #1", "amy@demo: /arrived #1 大門", "amy@demo: /picked @bob #1",
                 "amy: /ratings #1"):
        [answer] = say(console, line)
        assert "只有團主或管理員可以使用" in answer, line


def test_arrived_tells_every_member_still_to_pick_up_privately_where_and_until_when(console):
    two_joined(console)
    out = say(console, "leader@demo: /arrived #1 大樓管理室 週五 20:00")
    assert out[0] == ("bot -> leader@demo: #1 蘋果 到貨了：請到 大樓管理室 取貨，"
                      "期限 2026-03-13 20:00。已通知 2 人。")
    assert "bot -> amy: 你的 蘋果（#1，2 份）到貨了！請在 2026-03-13 20:00 前到 大樓管理室 取貨。" in out
    assert any(line.startswith("bot -> bob: 你的 蘋果（#1，1 份）到貨了") for line in out)


def test_arrived_without_a_time_gives_the_default_pickup_window(console):
    two_joined(console)
    [answer, *_] = say(console, "leader@demo: /arrived #1 社區大門")
    assert "社區大門 取貨，期限 2026-03-13 12:00" in answer


def test_arrived_refuses_bad_input_and_changes_nothing(console):
    two_joined(console, close=False)
    assert "請先 /close" in say(console, "leader@demo: /arrived #1 大門")[0]
    say(console, "leader@demo: /close")
    assert "用法：/arrived" in say(console, "leader@demo: /arrived")[0]
    assert "用法：/arrived" in say(console, "leader@demo: /arrived #1 週五 20:00")[0]
    assert "已經過了" in say(console, "leader@demo: /arrived #1 大門 2026-03-01 20:00")[0]
    assert "#99" in say(console, "leader@demo: /arrived #99 大門")[0]
    assert [b.arrived_at for b in fetch(console, select(GroupBuy))] == [None]


def test_a_second_arrived_is_refused_and_nobody_hears_twice(console):
    arrived(console)
    out = say(console, "leader@demo: /arrived #1 別的地方 明天 20:00")
    assert out == ["bot -> leader: #1 蘋果 已經通知過到貨：大樓管理室，期限 2026-03-13 20:00。沒有變更。"]


def test_picked_delivers_the_line_stamps_it_and_thanks_the_member(console):
    arrived(console)
    out = say(console, "leader@demo: /picked @amy")
    assert out[0] == "bot -> leader@demo: amy 已取貨：#1 蘋果（2 份）。"
    assert "bot -> amy: 謝謝你取走 蘋果（#1，2 份）。+20 積分。" in out
    [line] = orders_of(console, "amy")
    assert line.status == "delivered" and line.picked_up_at is not None
    assert orders_of(console, "bob")[0].picked_up_at is None


def test_picked_twice_is_a_clear_no_and_changes_nothing(console):
    arrived(console)
    say(console, "leader@demo: /picked @amy")
    stamped = orders_of(console, "amy")[0].picked_up_at
    assert say(console, "leader@demo: /picked @amy") == ["bot -> leader: amy 在這裡沒有待取的貨。"]
    assert "amy 在 #1 蘋果 沒有待取的貨" in say(console, "leader@demo: /picked @amy #1")[0]
    assert orders_of(console, "amy")[0].picked_up_at == stamped


def test_picked_before_the_arrival_is_refused_unless_the_line_was_delivered(console):
    two_joined(console)
    assert "還沒通知到貨" in say(console, "leader@demo: /picked @amy #1")[0]
    say(console, "leader@demo: /delivered all")
    assert "amy 已取貨" in say(console, "leader@demo: /picked @amy #1")[0]


def test_picked_needs_a_known_name(console):
    arrived(console)
    assert "用法：/picked" in say(console, "leader@demo: /picked")[0]
    assert "@nobody" in say(console, "leader@demo: /picked @nobody")[0]


def delivered(console) -> None:
    arrived(console)
    say(console, "leader@demo: /picked @amy", "leader@demo: /picked @bob")


def test_a_member_rates_a_buy_they_received_and_a_re_rate_changes_it(console):
    delivered(console)
    assert say(console, "amy: /rate #1 5 很新鮮") == ["bot -> amy: 謝謝！你給 #1 蘋果 5/5 分。"]
    assert say(console, "amy: /rate #1 4")[0] == "bot -> amy: 謝謝！你給 #1 蘋果 4/5 分（原本 5 分）。"
    [rating] = fetch(console, select(Rating))
    assert (rating.score, rating.comment) == (4, "很新鮮")


def test_a_rating_may_be_a_full_width_or_chinese_digit(console):
    delivered(console)
    assert "5/5" in say(console, "amy: /rate #1 ５")[0]
    assert "4/5" in say(console, "bob: /rate #1 四")[0]


def test_a_rating_outside_one_to_five_is_refused_and_changes_nothing(console):
    delivered(console)
    for bad in ("0", "6", "六", "4.5", "好吃", ""):
        [answer] = say(console, f"amy: /rate #1 {bad}")
        assert "用法：/rate" in answer, bad
    assert count(console, Rating) == 0


def test_a_double_tap_keeps_one_rating(console):
    delivered(console)
    say(console, "amy: /rate #1 3", "amy: /rate #1 3")
    assert count(console, Rating) == 1


def test_only_a_member_who_received_the_buy_may_rate_it(console):
    two_joined(console)
    say(console, "cat: /start")
    assert "收到 #1 蘋果 之後才能評分" in say(console, "amy: /rate #1 5")[0]
    assert "#99" in say(console, "amy: /rate #99 5")[0]
    assert count(console, Rating) == 0


def test_a_low_rating_reaches_the_owner_at_once(console):
    delivered(console)
    out = say(console, "amy: /rate #1 2 有點軟")
    assert "bot -> leader: 低分提醒：amy 給 #1 蘋果 2/5 分：「有點軟」。" in out
    assert not any("低分提醒" in line for line in say(console, "bob: /rate #1 3"))


def test_the_leader_reads_the_average_and_the_comments(console):
    delivered(console)
    say(console, "amy: /rate #1 5 很新鮮", "bob: /rate #1 4")
    [answer] = say(console, "leader@demo: /ratings #1")
    assert answer.startswith("bot -> leader: #1 蘋果：平均 4.5/5 分，2 人評分。")
    assert "amy：5 分－很新鮮" in answer and "bob：4 分" in answer


def test_ratings_of_a_buy_nobody_rated_say_so(console):
    delivered(console)
    assert "還沒有人評分" in say(console, "leader: /ratings #1")[0]
    assert fetch(console, select(Order.picked_up_at).where(Order.picked_up_at.is_(None))) == []  # type: ignore[union-attr]
