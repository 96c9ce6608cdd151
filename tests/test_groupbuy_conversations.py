"""Group buys through the console: opening, '+1', the waitlist, early windows, prices, CSV.

The demo community speaks zh-Hant unless a member switches with `/lang en`. The clock
starts at 2026-03-10 12:00 in Taipei (04:00 UTC) and moves only by hand.
"""

from __future__ import annotations

import csv
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console import ConsoleChannel
from handlers.dispatch import handle
from messages.types import Incoming
from models.tables import (
    AuditLog,
    CommissionEntry,
    Conversation,
    Coupon,
    GroupBuy,
    Member,
    Order,
    OutboxMessage,
)
from tests.conftest import DATABASE_URL, Clock, say
from tests.distribution_helpers import everyone_distributes
from tests.groupbuy_helpers import (
    count,
    english,
    fetch,
    ledgers_balance,
    member,
    orders_of,
    referral_code,
    started,
    stock_consistent,
    the_buy,
    units,
)

APPLES = "/open 有機蘋果 | 350 | 3 | 2h | 水果 | 14 | 2"
STAFF_ONLY = "只有團主或管理員可以使用這個指令。"
USAGE_JOIN = "跟團請輸入 +1（或 +2、加1、/join 2）。數量須為 1 到 9999 的整數。"


def roster_only(out: list[str]) -> bool:
    """Nothing but roster posts and edits reached the group."""
    return all(line.startswith(("bot ~> @demo:", "bot -> @demo:")) for line in out)


def coupon_code(console: ConsoleChannel, handle: str) -> str:
    who = member(console, handle)
    codes = fetch(console, select(Coupon.code).where(Coupon.member_id == who.id)
                  .order_by(Coupon.id))
    return codes[-1]


# 1. Opening ---------------------------------------------------------------------------------


def test_a_leader_opens_a_group_buy_in_one_line(console: ConsoleChannel):
    out = say(console, f"leader@demo: {APPLES}")
    assert out[0] == ("bot -> leader@demo: "
                      "團購 #1 開團：有機蘋果，每份 NT$350，限量 3 份，每人限購 2 份。\n"
                      "截止 2026-03-10 14:00（週二）。\n輸入 +1 跟團（+2 訂兩份）。")
    assert out[1].startswith("bot -> @demo: 🛒 #1 有機蘋果 · NT$350")
    assert "剩餘 3 / 3" in out[1]
    buy = the_buy(console)
    assert (buy.title, buy.price, buy.stock, buy.per_member_limit) == ("有機蘋果", 35_000, 3, 2)
    assert (buy.category, buy.cycle_days, buy.status, buy.allocated) == ("水果", 14, "open", 0)
    assert buy.deadline == datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    assert buy.opens_at == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def test_group_buys_are_numbered_per_community(console: ConsoleChannel):
    say(console, f"leader@demo: {APPLES}", "leader@demo: /open 梨 | 80 | - | 3h")
    assert fetch(console, select(GroupBuy.number).order_by(GroupBuy.id)) == [1, 2]
    assert the_buy(console, 2).stock is None


def test_the_guided_flow_asks_field_by_field_and_asks_again_after_a_bad_answer(console):
    out = say(console, "leader@demo: /open")
    assert out == ["bot -> leader@demo: （1/8）請輸入商品名稱。輸入 /cancel 放棄。"]
    say(console, "leader@demo: 有機蘋果")
    bad = say(console, "leader@demo: abc")
    assert bad == ["bot -> leader@demo: 單價（例如 350）的格式不正確。",
                   "bot -> leader@demo: （2/8）請輸入單價（例如 350）。輸入 /cancel 放棄。"]
    say(console, "leader@demo: 350", "leader@demo: 3")
    assert say(console, "amy@demo: 大家好") == []  # someone else's chatter is not an answer
    past = say(console, "leader@demo: 09:00")
    assert past[0] == "bot -> leader@demo: 截止時間 2026-03-10 09:00 已經過了。"
    assert "（4/8）" in past[1]
    assert count(console, GroupBuy) == 0 and count(console, Conversation) == 1
    say(console, "leader@demo: 2h", "leader@demo: 水果", "leader@demo: 14", "leader@demo: 2")
    done = say(console, "leader@demo: -")
    assert done[0].startswith("bot -> leader@demo: 團購 #1 開團：有機蘋果，每份 NT$350，限量 3 份")
    buy = the_buy(console)
    assert (buy.price, buy.stock, buy.category, buy.cycle_days, buy.per_member_limit) == (
        35_000, 3, "水果", 14, 2)
    assert buy.deadline == datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    assert count(console, Conversation) == 0


def test_cancel_stops_the_guided_flow_and_nothing_is_half_written(console):
    say(console, "leader@demo: /open", "leader@demo: 有機蘋果", "leader@demo: 350")
    assert say(console, "leader@demo: /cancel") == ["bot -> leader@demo: 已放棄，沒有開團。"]
    assert count(console, GroupBuy) == 0 and count(console, Conversation) == 0
    assert say(console, "leader@demo: 3") == []  # plain chatter again


def test_the_guided_flow_asks_again_when_the_early_window_reaches_the_deadline(console):
    say(console, "leader@demo: /open", "leader@demo: X", "leader@demo: 100", "leader@demo: -",
        "leader@demo: 2h", "leader@demo: -", "leader@demo: -", "leader@demo: -")
    out = say(console, "leader@demo: 金 3h")
    assert out == ["bot -> leader@demo: 等級優先時段或專屬（例如 金 30m、金 專屬，或 -）的格式不正確。",
                   "bot -> leader@demo: "
                   "（8/8）請輸入等級優先時段或專屬（例如 金 30m、金 專屬，或 -）。輸入 /cancel 放棄。"]
    assert count(console, GroupBuy) == 0
    say(console, "leader@demo: 金 30m")
    assert the_buy(console).early_tier == "gold"
    assert count(console, Conversation) == 0


def test_a_member_cannot_open_a_group_buy_and_the_refusal_is_audited(console):
    out = say(console, f"amy@demo: {APPLES}")
    assert out == [f"bot -> amy@demo: {STAFF_ONLY}"]
    refusals = fetch(console, select(AuditLog.action).where(AuditLog.allowed.is_(False)))  # type: ignore[union-attr, attr-defined]
    assert refusals == ["open"]
    assert count(console, GroupBuy) == 0
    assert say(console, "amy@demo: /open") == [f"bot -> amy@demo: {STAFF_ONLY}"]
    assert count(console, Conversation) == 0


@pytest.mark.parametrize(("line", "answer"), [
    ("/open 有機蘋果 | -350 | 3 | 2h", "單價（例如 350）的格式不正確。"),
    ("/open 有機蘋果 | 0 | 3 | 2h", "單價（例如 350）的格式不正確。"),
    ("/open 有機蘋果 | 99999999 | 3 | 2h", "單價（例如 350）的格式不正確。"),
    ("/open 有機蘋果 | 350 | 3 | 09:00", "截止時間 2026-03-10 09:00 已經過了。"),
    ("/open 有機蘋果 | 350 | 3 | yesterday",
     "截止時間（例如 12-01 20:00、明天 20:00、週五 20:00、2h）的格式不正確。"),
    ("/open 有機蘋果 | 350 | 0 | 2h", "庫存上限（數字，或 - 表示不限）的格式不正確。"),
    ("/open  | 350 | 3 | 2h", "商品名稱的格式不正確。"),
    ("/open 有機蘋果 | 350 | 3 | 2h | 水果 | 14 | 2 | 金 3h",
     "等級優先時段或專屬（例如 金 30m、金 專屬，或 -）的格式不正確。"),
    ("/open 有機蘋果 | 350 | 3 | 2h | 水果 | 14 | 2 | 白金 30m",
     "等級優先時段或專屬（例如 金 30m、金 專屬，或 -）的格式不正確。"),
])
def test_a_bad_field_is_named_and_nothing_is_opened(console, line, answer):
    assert say(console, f"leader@demo: {line}") == [f"bot -> leader@demo: {answer}"]
    assert count(console, GroupBuy) == 0


@pytest.mark.parametrize("line", [
    "/open 有機蘋果 | 350",
    "/open 有機蘋果 | 350 | 3",
    "/open a | 350 | 3 | 2h | x | 14 | 2 | 金 30m | extra",
])
def test_missing_or_extra_fields_get_the_usage_and_nothing_is_opened(console, line):
    out = say(console, f"leader@demo: {line}")
    assert out[0].startswith("bot -> leader@demo: 用法：/open 商品 | 單價 | 庫存 | 截止")
    assert count(console, GroupBuy) == 0


def test_a_group_buy_is_opened_only_in_a_group(console):
    assert say(console, f"leader: {APPLES}") == ["bot -> leader: 請在要開團的群組裡輸入 /open。"]
    assert count(console, GroupBuy) == 0


# 2. Joining ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "wanted"), [
    ("+1", 1), ("+2", 2), ("＋１", 1), ("+ 1", 1), ("加1", 1), ("加一", 1), ("加 2", 2),
    ("/join 2", 2), ("/join", 1), ("/跟團 2", 2),
])
def test_every_way_of_joining_takes_exactly_what_was_asked(console, text, wanted):
    say(console, "leader@demo: /open 有機蘋果 | 350 | 10 | 2h")
    out = say(console, f"amy@demo: {text}")
    assert out and roster_only(out)  # the group sees the roster, not an answer per '+1'
    assert f"1. amy ×{wanted}" in out[-1]
    assert units(console, "allocated") == {"amy": wanted}
    assert the_buy(console).allocated == wanted
    [order] = orders_of(console, "amy")
    assert (order.list_price, order.net) == (35_000 * wanted, 35_000 * wanted)


@pytest.mark.parametrize("text", ["+0", "+-1", "+999999", "/join 0", "/join -1", "/join 10000",
                                  "/join two"])
def test_a_quantity_that_is_not_1_to_9999_gets_a_clear_answer_and_changes_nothing(console, text):
    say(console, f"leader@demo: {APPLES}")
    assert say(console, f"amy@demo: {text}") == [f"bot -> amy@demo: {USAGE_JOIN}"]
    assert count(console, Order) == 0
    assert the_buy(console).allocated == 0


def test_a_member_may_not_go_past_the_per_member_limit(console):
    say(console, "leader@demo: /open 有機蘋果 | 350 | 10 | 2h | - | - | 2", "amy@demo: +1")
    assert say(console, "amy@demo: +2") == [
        "bot -> amy@demo: #1 有機蘋果 每人限購 2 份，你已有 1 份。"]
    say(console, "amy@demo: +1")
    assert say(console, "amy@demo: 加一") == [
        "bot -> amy@demo: #1 有機蘋果 每人限購 2 份，你已有 2 份。"]
    assert units(console, "allocated") == {"amy": 2}


def test_a_closed_group_buy_refuses_to_join(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1")
    closed = say(console, "leader@demo: /close")
    assert closed[0] == "bot -> leader@demo: #1 有機蘋果 已結單，感謝大家！"
    assert "· 已結單" in closed[1] and "輸入 +1 跟團" not in closed[1]
    assert say(console, "bob@demo: +1") == ["bot -> bob@demo: #1 有機蘋果 已結單。"]
    assert say(console, "bob@demo: /join 1 #1") == ["bot -> bob@demo: #1 有機蘋果 已結單。"]
    assert say(console, "amy@demo: /cancel") == ["bot -> amy@demo: #1 有機蘋果 已結單。"]
    assert units(console, "allocated") == {"amy": 1}
    assert the_buy(console).allocated == 1


def test_an_expired_group_buy_refuses_to_join(console, clock: Clock):
    say(console, f"leader@demo: {APPLES}")
    clock.advance(hours=2)  # 14:00: the deadline
    out = say(console, "amy@demo: +1")
    assert out[0] == "bot -> amy@demo: #1 有機蘋果 已結單。"
    assert roster_only(out[1:])
    assert count(console, Order) == 0


def test_the_roster_says_closed_once_the_deadline_passes(console, clock: Clock):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1")
    clock.advance(hours=2)
    out = say(console, "bob@demo: +1")
    assert out[0] == "bot -> bob@demo: #1 有機蘋果 已結單。"
    assert out[1].startswith("bot ~> @demo: 🛒 #1 有機蘋果 · NT$350 · 已結單\n1. amy ×1")
    assert "輸入 +1 跟團" not in out[1]
    assert say(console, "bob@demo: +1") == ["bot -> bob@demo: #1 有機蘋果 已結單。"]  # once


def test_without_a_group_buy_a_plus_one_is_just_chatter_but_join_is_told(console):
    assert say(console, "amy@demo: +1") == []  # "+1" also means "me too" in a group
    assert say(console, "amy@demo: /join 1") == ["bot -> amy@demo: 這裡目前沒有進行中的團購。"]
    assert count(console, Order) == 0


def test_the_member_gets_a_private_confirmation_only_after_starting_the_bot(console):
    say(console, f"leader@demo: {APPLES}")
    first = say(console, "amy@demo: +1")
    assert roster_only(first)
    assert count(console, OutboxMessage) == 0
    started(console, "amy")
    second = say(console, "amy@demo: +1")
    assert second[0] == ("bot -> amy: #1 有機蘋果：已為你保留 1 份。\n"
                         "你在本團共 2 份；本筆金額 NT$350。截止前可輸入 /cancel 取消。")
    assert roster_only(second[1:])
    assert not any(line.startswith("bot -> amy@demo") for line in first + second)


def test_a_member_joins_in_private_with_the_group_buy_number(console):
    say(console, f"leader@demo: {APPLES}")
    out = say(console, "amy: /join 2 #1")
    assert out[0].startswith("bot -> amy: #1 有機蘋果：已為你保留 2 份。")
    assert units(console, "allocated") == {"amy": 2}


# 3. Stock and the waitlist ------------------------------------------------------------------


def test_stock_is_never_oversold_the_rest_waits_in_line(console):
    say(console, f"leader@demo: {APPLES}")
    for name in ("amy", "bob", "cat", "dan", "eve"):
        out = say(console, f"{name}@demo: +1")
    assert units(console, "allocated") == {"amy": 1, "bob": 1, "cat": 1}
    assert units(console, "waitlisted") == {"dan": 1, "eve": 1}
    assert the_buy(console).allocated == 3
    assert "剩餘 0 / 3 · 候補 2" in out[-1]
    assert "4. dan" not in out[-1]


def test_a_cancel_promotes_the_first_waiter_and_tells_them(console):
    say(console, f"leader@demo: {APPLES}")
    started(console, "dan")
    for name in ("amy", "bob", "cat", "dan", "eve"):
        say(console, f"{name}@demo: +1")
    out = say(console, "bob@demo: /cancel")
    assert out[0] == "bot -> bob@demo: 已取消你在 #1 有機蘋果 的 1 份。"
    assert "bot -> dan: 好消息：#1 有機蘋果 有人取消，你候補的 1 份已轉為正式訂單。" in out
    assert units(console, "allocated") == {"amy": 1, "cat": 1, "dan": 1}
    assert units(console, "waitlisted") == {"eve": 1}
    assert units(console, "cancelled") == {"bob": 1}
    assert "3. dan ×1" in out[-1] and "候補 1" in out[-1]
    out = say(console, "amy@demo: /cancel")  # eve never started the bot: no push, promoted anyway
    assert not any(line.startswith("bot -> eve") for line in out)
    assert units(console, "allocated") == {"cat": 1, "dan": 1, "eve": 1}
    stock_consistent(console)


def test_plus_two_with_one_left_takes_one_and_waitlists_one(console):
    say(console, "leader@demo: /open 有機蘋果 | 350 | 3 | 2h", "amy@demo: +2")
    started(console, "bob")
    out = say(console, "bob@demo: +2")
    assert out[0] == ("bot -> bob: #1 有機蘋果：已為你保留 1 份，"
                      "另有 1 份在候補名單（有人取消時依序遞補）。\n"
                      "你在本團共 2 份；本筆金額 NT$700。截止前可輸入 /cancel 取消。")
    assert units(console, "allocated") == {"amy": 2, "bob": 1}
    assert units(console, "waitlisted") == {"bob": 1}
    assert the_buy(console).allocated == 3


def test_a_waiting_line_that_does_not_fit_keeps_its_place_and_smaller_ones_are_served(console):
    say(console, "leader@demo: /open 有機蘋果 | 350 | 3 | 2h", "amy@demo: +1", "bob@demo: +2",
        "cat@demo: +2", "dan@demo: +1")
    say(console, "amy@demo: /cancel")  # one unit free: cat's 2 do not fit, dan's 1 does
    assert units(console, "waitlisted") == {"cat": 2}
    assert units(console, "allocated") == {"bob": 2, "dan": 1}
    say(console, "eve@demo: +1")  # a newcomer never jumps the queue
    assert units(console, "waitlisted") == {"cat": 2, "eve": 1}
    say(console, "bob@demo: /cancel")  # two free: cat, who waited longest, gets them
    assert units(console, "allocated") == {"cat": 2, "dan": 1}
    assert units(console, "waitlisted") == {"eve": 1}
    stock_consistent(console)


def test_a_waiter_promoted_and_cancelled_by_the_same_command_hears_only_the_cancellation(console):
    say(console, "leader@demo: /open 有機蘋果 | 350 | 1 | 2h", "amy@demo: +1")
    started(console, "dan")
    say(console, "dan@demo: +1")
    out = say(console, "leader@demo: /cancelorder all")
    assert out[0] == "bot -> leader@demo: #1 有機蘋果：2 筆訂單標記為已取消。"
    to_dan = [line for line in out if line.startswith("bot -> dan:")]
    assert len(to_dan) == 1 and "已由團主取消" in to_dan[0]
    assert units(console, "cancelled") == {"amy": 1, "dan": 1}
    stock_consistent(console)


def test_a_member_cancels_only_their_own_lines(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1")
    assert say(console, "bob@demo: /cancel") == [
        "bot -> bob@demo: 你在 #1 有機蘋果 沒有可取消的訂單。"]
    assert units(console, "allocated") == {"amy": 1}


@pytest.mark.skipif(not DATABASE_URL.startswith("postgresql"),
                    reason="in-memory SQLite has one shared connection: no real concurrency")
def test_concurrent_plus_ones_never_oversell(console):
    say(console, "leader@demo: /open 有機蘋果 | 350 | 3 | 2h")
    names = [f"m{i}" for i in range(12)]
    for name in names:
        say(console, f"{name}@demo: /me")  # the members exist before the race
    gate = threading.Barrier(len(names))

    def plus_one(name: str) -> None:
        gate.wait()
        handle(Incoming("console", "demo", name, "+1", f"race-{name}", is_group=True,
                        handle=name, sender_name=name), console.deps)

    threads = [threading.Thread(target=plus_one, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(units(console, "allocated").values()) == 3
    assert sum(units(console, "waitlisted").values()) == len(names) - 3
    stock_consistent(console)


# 4. The early window ------------------------------------------------------------------------


def test_a_higher_tier_joins_in_the_early_window_and_the_others_wait_for_it(console, clock):
    english(console, "bob")
    say(console, "amy@demo: /me", "cat@demo: /me", "dan@demo: /me")
    say(console, "leader@demo: /settier @amy gold vip", "leader@demo: /settier @cat diamond top",
        "leader@demo: /settier @dan silver loyal")
    assert [member(console, n).tier for n in ("amy", "cat", "dan")] == ["gold", "diamond", "silver"]
    opened = say(console, "leader@demo: /open X | 100 | 10 | 3h | - | - | - | 金 60m")
    assert "「金」以上會員現在即可跟團，其他人 13:00 開放。" in opened[0]
    assert roster_only(say(console, "amy@demo: +1", "cat@demo: +1"))
    assert units(console, "allocated") == {"amy": 1, "cat": 1}
    refused = say(console, "bob@demo: +1")
    assert refused == [  # bob started the bot (/lang in private): told privately
        "bot -> bob: #1 X opens for you at 13:00 (members of higher tiers go first)."]
    clock.advance(minutes=59)
    assert "13:00" in say(console, "bob@demo: +1")[0]
    assert "13:00" in say(console, "dan@demo: +1")[0]  # silver is below gold
    clock.advance(minutes=1)
    assert roster_only(say(console, "dan@demo: +1"))
    assert say(console, "bob@demo: +1")[0].startswith("bot -> bob: #1 X: you are in for 1.")
    assert units(console, "allocated") == {"amy": 1, "cat": 1, "dan": 1, "bob": 1}


# 5. The price breakdown ---------------------------------------------------------------------


def silver_member_with_a_coupon_and_points(console: ConsoleChannel) -> str:
    english(console, "amy")
    say(console, "amy: /birthday 03-20", "leader@demo: /settier @amy silver loyal", "amy: /claim",
        "leader@demo: /grant @amy 300 gift", "leader@demo: /open X | 1000 | 10 | 3h",
        "amy@demo: +2")
    return coupon_code(console, "amy")


def test_the_order_keeps_list_tier_coupon_points_and_net(console):
    code = silver_member_with_a_coupon_and_points(console)
    [order] = orders_of(console, "amy")
    assert (order.list_price, order.tier_discount, order.net) == (200_000, 10_000, 190_000)
    priced = say(console, f"amy: /usecoupon {code}")
    assert priced == ["bot -> amy: Order No. 1 (#1 X × 2):\n"
                      "list NT$2,000 − tier NT$100 − coupon NT$100 − 0 points NT$0 = NT$1,800"]
    priced = say(console, "amy: /usepoints 50")
    assert priced[0].endswith(
        "list NT$2,000 − tier NT$100 − coupon NT$100 − 50 points NT$50 = NT$1,750")
    [order] = orders_of(console, "amy")
    assert (order.list_price, order.tier_discount, order.coupon_discount, order.points_used,
            order.points_value, order.net) == (200_000, 10_000, 10_000, 50, 5_000, 175_000)
    assert order.net == (order.list_price - order.tier_discount - order.coupon_discount
                         - order.points_value)
    assert member(console, "amy").points_balance == 250
    assert fetch(console, select(Coupon.redeemed_at))[0] is not None
    ledgers_balance(console)


def test_a_used_coupon_cannot_be_applied_twice(console):
    code = silver_member_with_a_coupon_and_points(console)
    say(console, f"amy: /usecoupon {code}")
    again = say(console, f"amy: /usecoupon {code}")
    assert again[0].startswith(f"bot -> amy: That coupon ({code}) cannot be used on this order")
    say(console, "leader@demo: /open Y | 500 | 10 | 3h", "amy@demo: +1")
    elsewhere = say(console, f"amy: /usecoupon {code} #2")
    assert elsewhere[0].startswith(f"bot -> amy: That coupon ({code}) cannot be used")
    first, second = orders_of(console, "amy")
    assert first.coupon_discount == 10_000 and second.coupon_discount == 0
    assert second.net == 47_500


def test_someone_elses_coupon_cannot_be_used(console):
    code = silver_member_with_a_coupon_and_points(console)
    say(console, "bob@demo: +1")
    out = say(console, f"bob@demo: /usecoupon {code}")
    assert "無法用於此訂單" in out[0]
    assert fetch(console, select(Coupon.redeemed_at)) == [None]


def test_points_never_pay_more_than_the_balance_and_only_once_per_order(console):
    silver_member_with_a_coupon_and_points(console)
    refused = say(console, "amy: /usepoints 5000")  # more than the balance: says how many
    assert refused == ["bot -> amy: You have only 300 points, not enough to use 5000. "
                       "Send /usepoints 300 to use them all."]
    assert orders_of(console, "amy")[0].points_used == 0
    say(console, "amy: /usepoints 300")
    [order] = orders_of(console, "amy")
    assert (order.points_used, order.points_value, order.net) == (300, 30_000, 160_000)
    assert member(console, "amy").points_balance == 0
    assert say(console, "amy: /usepoints 10")[0].startswith("bot -> amy: Usage: /usepoints N")
    ledgers_balance(console)


def test_a_coupon_after_points_gives_back_the_points_it_makes_unnecessary(console):
    english(console, "amy")
    say(console, "amy: /birthday 03-20", "amy: /claim", "leader@demo: /grant @amy 100 gift",
        "leader@demo: /open X | 100 | 10 | 3h", "amy@demo: +1", "amy: /usepoints 100")
    code = coupon_code(console, "amy")
    assert member(console, "amy").points_balance == 0
    out = say(console, f"amy: /usecoupon {code}")
    assert out[0].endswith("list NT$100 − tier NT$0 − coupon NT$50 − 50 points NT$50 = NT$0")
    [order] = orders_of(console, "amy")
    assert (order.coupon_discount, order.points_used, order.net) == (5_000, 50, 0)
    assert member(console, "amy").points_balance == 50
    ledgers_balance(console)


def test_a_members_cancel_gives_back_the_coupon_and_the_points(console):
    code = silver_member_with_a_coupon_and_points(console)
    say(console, f"amy: /usecoupon {code}", "amy: /usepoints 100", "amy@demo: /cancel")
    assert member(console, "amy").points_balance == 300
    assert fetch(console, select(Coupon.redeemed_at)) == [None]
    ledgers_balance(console)


def test_a_leaders_cancel_gives_back_the_coupon_and_the_points(console):
    code = silver_member_with_a_coupon_and_points(console)
    say(console, f"amy: /usecoupon {code}", "amy: /usepoints 100")
    out = say(console, "leader@demo: /cancelorder all")
    assert out[0] == "bot -> leader@demo: #1 X：1 筆訂單標記為已取消。"
    assert member(console, "amy").points_balance == 300
    assert fetch(console, select(Coupon.redeemed_at)) == [None]
    assert the_buy(console).allocated == 0
    ledgers_balance(console)


# 6. Delivery through the console ------------------------------------------------------------


def test_delivered_all_after_close_credits_points_and_tells_the_member(console):
    english(console, "amy")
    say(console, "leader@demo: /open 有機蘋果 | 350 | 10 | 2h | 水果 | 14", "amy@demo: +2",
        "bob@demo: +1", "leader@demo: /close")
    out = say(console, "leader@demo: /delivered all")
    assert out[0] == "bot -> leader@demo: #1 有機蘋果：2 筆訂單標記為已到貨。"
    assert "bot -> amy: #1 有機蘋果 has been delivered. +70 points." in out
    assert member(console, "amy").points_balance == 70
    assert member(console, "bob").points_balance == 35
    amy_order, = orders_of(console, "amy")
    assert amy_order.status == "delivered"
    assert amy_order.replenish_on == date(2026, 4, 5)  # 03-10 + 14 × 2 − 2 days
    ledgers_balance(console)


def test_paid_orders_can_then_be_delivered(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1", "bob@demo: +1")
    amy = orders_of(console, "amy")[0]
    out = say(console, f"leader@demo: /paid {amy.id}")
    assert out[0] == "bot -> leader@demo: #1 有機蘋果：1 筆訂單標記為已付款。"
    assert orders_of(console, "amy")[0].status == "paid"
    assert orders_of(console, "amy")[0].paid_at is not None
    say(console, "leader@demo: /close", "leader@demo: /delivered all")
    assert [orders_of(console, n)[0].status for n in ("amy", "bob")] == ["delivered", "delivered"]
    stock_consistent(console)


def test_delivered_by_order_numbers_touches_only_those(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1", "bob@demo: +1", "cat@demo: +1")
    amy, bob = orders_of(console, "amy")[0], orders_of(console, "bob")[0]
    say(console, f"leader@demo: /delivered {amy.id}，{bob.id}")
    statuses = [o.status for name in ("amy", "bob", "cat") for o in orders_of(console, name)]
    assert statuses == ["delivered", "delivered", "allocated"]


def test_an_unknown_order_number_delivers_nothing_at_all(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1")
    amy = orders_of(console, "amy")[0]
    out = say(console, f"leader@demo: /delivered {amy.id} 999")
    assert out == ["bot -> leader@demo: 本團沒有這些可處理的訂單：999。未做任何變更。"]
    assert orders_of(console, "amy")[0].status == "allocated"
    assert member(console, "amy").points_balance == 0


def test_a_member_cannot_mark_orders(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1")
    assert say(console, "amy@demo: /delivered all") == [f"bot -> amy@demo: {STAFF_ONLY}"]
    assert orders_of(console, "amy")[0].status == "allocated"


def test_a_referral_rewards_both_sides_on_the_first_delivered_purchase_only(console):
    everyone_distributes(console)
    started(console, "amy")
    say(console, f"bob: /start ref_{referral_code(console, 'amy')}")
    say(console, f"leader@demo: {APPLES}", "bob@demo: +1", "leader@demo: /delivered all")
    assert member(console, "amy").points_balance == 100
    assert member(console, "bob").points_balance == 35 + 50
    say(console, "leader@demo: /open 梨 | 100 | - | 2h", "bob@demo: +1",
        "leader@demo: /delivered all")
    assert member(console, "amy").points_balance == 100
    assert member(console, "bob").points_balance == 35 + 50 + 10
    commissions = fetch(console, select(CommissionEntry.level, CommissionEntry.base))
    assert sorted(commissions) == [(1, 10_000), (1, 35_000)]  # 人人分銷: amy is a distributor


def test_a_refund_through_the_console_puts_everything_back(console):
    started(console, "amy")
    say(console, f"bob: /start ref_{referral_code(console, 'amy')}")
    say(console, f"leader@demo: {APPLES}", "bob@demo: +2", "cat@demo: +1", "dan@demo: +1",
        "leader@demo: /close", "leader@demo: /delivered all")
    bob_order = orders_of(console, "bob")[0]
    out = say(console, f"leader@demo: /cancelorder {bob_order.id}")
    assert out[0] == "bot -> leader@demo: #1 有機蘋果：1 筆訂單標記為已取消。"
    assert orders_of(console, "bob")[0].status == "refunded"
    assert member(console, "bob").points_balance == 0
    assert member(console, "amy").points_balance == 0
    assert units(console, "allocated") == {}  # the waitlist ended when the buy closed
    assert units(console, "cancelled") == {"dan": 1}
    assert "1. cat ×1\n剩餘 2 / 3" in out[-1] and "bob" not in out[-1]
    stock_consistent(console)
    ledgers_balance(console)


# 8. A redelivered message -------------------------------------------------------------------


def test_the_same_plus_one_delivered_twice_makes_one_order(console):
    say(console, f"leader@demo: {APPLES}")
    msg = Incoming("console", "demo", "amy", "+1", "m-42", is_group=True, handle="amy",
                   sender_name="amy")
    handle(msg, console.deps)
    assert handle(msg, console.deps) == []
    assert count(console, Order) == 1 and the_buy(console).allocated == 1
    other = Incoming("console", "demo", "amy", "+1", "m-43", is_group=True, handle="amy",
                     sender_name="amy")
    handle(other, console.deps)
    assert count(console, Order) == 2 and the_buy(console).allocated == 2


def test_the_same_delivery_command_sent_twice_credits_once(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1")
    msg = Incoming("console", "demo", "leader", "/delivered all", "m-7", is_group=True,
                   handle="leader", sender_name="leader")
    assert handle(msg, console.deps)
    assert handle(msg, console.deps) == []
    assert member(console, "amy").points_balance == 35
    ledgers_balance(console)


# 9. CSV import and export -------------------------------------------------------------------

BIG5_EXPORT = (
    "訂單編號,姓名,商品名稱,數量,單價,狀態,下單時間\r\n"
    "TW-001,陳美玲,鳳梨酥禮盒,2,\"NT$1,200\",已付款,2024/05/01 10:15\r\n"
    "TW-002,林志豪,阿里山高山烏龍茶,0,850,未付款,2024/05/01 11:02\r\n"
    "TW-003,@amy,臺中太陽餅,3,３２０元,已取貨,2024/05/02 09:30\r\n"
    "TW-004,王小明,臺中太陽餅,1,abc,已取貨,2024/05/02 09:30\r\n"
    "TW-005,王小明,臺中太陽餅,1,320,已取消,2024/05/02 09:30\r\n"
)
GBK_EXPORT = (
    "订单编号,昵称,商品名称,数量,单价,状态,下单时间\n"
    "CN-001,张伟,五常大米 5kg,2,¥88.5,已付款,2024-05-01 10:15\n"
    "CN-002,李娜,赣南脐橙,1,\"1,299\",待付款,2024-05-01 11:02\n"
    "CN-003,,阳澄湖大闸蟹,4,268,已发货,2024-05-02 09:30\n"
)
UTF8_EXPORT = (
    "order_id,member,product,quantity,unit_price,status\n"
    "A-1,Alice,Apples,1,350,paid\n"
    "A-2,Bob,Apples,2,350,pending\n"
    "A-3,Carol,Apples,1,350,shipped?\n"
)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_a_big5_export_is_imported_and_bad_rows_are_named_by_line(console, tmp_path):
    say(console, "amy: /start")
    path = write(tmp_path, "big5.csv", BIG5_EXPORT.encode("cp950"))
    out = say(console, f"leader@demo: /import {path}")
    assert out == ["bot -> leader@demo: 已匯入 3 筆訂單。\n未匯入：\n"
                   "第 3 行：數量錯誤（數量「0」）\n第 5 行：價格錯誤（單價「abc」）"]
    titles = fetch(console, select(GroupBuy.title, GroupBuy.status, GroupBuy.allocated)
                   .order_by(GroupBuy.id))
    assert titles == [("鳳梨酥禮盒", "closed", 2), ("臺中太陽餅", "closed", 3)]
    [amy_order] = orders_of(console, "amy")  # '@amy' is the member who talked to the bot
    assert (amy_order.status, amy_order.quantity, amy_order.net) == ("delivered", 3, 96_000)
    assert member(console, "amy").points_balance == 96
    statuses = fetch(console, select(Member.display_name, Order.status, Order.net)
                     .join(Member, Member.id == Order.member_id).order_by(Order.id))
    assert statuses == [("陳美玲", "paid", 240_000), ("amy", "delivered", 96_000),
                        ("王小明", "cancelled", 32_000)]
    stock_consistent(console)
    ledgers_balance(console)


def test_importing_the_same_file_again_duplicates_nothing(console, tmp_path):
    path = write(tmp_path, "big5.csv", BIG5_EXPORT.encode("cp950"))
    say(console, f"leader@demo: /import {path}")
    again = say(console, f"leader@demo: /import {path}")
    assert again[0].startswith("bot -> leader@demo: 已匯入 0 筆訂單，3 筆先前已匯入。")
    assert count(console, Order) == 3 and count(console, GroupBuy) == 2


def test_a_gbk_export_is_imported(console, tmp_path):
    path = write(tmp_path, "gbk.csv", GBK_EXPORT.encode("gb18030"))
    out = say(console, f"leader@demo: /import {path}")
    assert out == ["bot -> leader@demo: 已匯入 2 筆訂單。\n未匯入：\n第 4 行：缺少資料（會員）"]
    rows = fetch(console, select(Member.display_name, GroupBuy.title, Order.quantity, Order.net,
                                 Order.status)
                 .join(Member, Member.id == Order.member_id)
                 .join(GroupBuy, GroupBuy.id == Order.group_buy_id).order_by(Order.id))
    assert rows == [("张伟", "五常大米 5kg", 2, 17_700, "paid"),
                    ("李娜", "赣南脐橙", 1, 129_900, "allocated")]


def test_a_utf8_export_with_a_bom_is_imported(console, tmp_path):
    say(console, "leader: /lang en")
    path = write(tmp_path, "bom.csv", UTF8_EXPORT.encode("utf-8-sig"))
    out = say(console, f"leader@demo: /import {path}")
    assert out == ['bot -> leader@demo: Imported 2 orders.\nNot imported:\n'
                   'line 4: unknown status (status "shipped?")']
    assert fetch(console, select(GroupBuy.title)) == ["Apples"]
    assert the_buy(console).allocated == 3


def test_missing_columns_are_named_and_nothing_is_imported(console, tmp_path):
    path = write(tmp_path, "short.csv", "訂單編號,姓名,數量\nX-1,amy,2\n".encode("utf-8-sig"))
    out = say(console, f"leader@demo: /import {path}")
    assert out == ["bot -> leader@demo: "
                   "CSV 缺少欄位：商品（product）、單價（unit_price）。未匯入任何資料。"]
    assert count(console, Order) == 0 and count(console, GroupBuy) == 0


def test_import_needs_a_file_and_staff(console, tmp_path):
    path = write(tmp_path, "big5.csv", BIG5_EXPORT.encode("cp950"))
    assert say(console, f"amy@demo: /import {path}") == [f"bot -> amy@demo: {STAFF_ONLY}"]
    assert say(console, "leader@demo: /import /no/such/file.csv") == [
        "bot -> leader@demo: 找不到檔案：/no/such/file.csv。未匯入任何資料。"]
    assert say(console, "leader@demo: /import")[0].startswith("bot -> leader@demo: 用法：傳送 CSV 檔")
    assert count(console, Order) == 0


def major(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}" if minor % 100 else str(minor // 100)


def test_export_writes_a_csv_whose_rows_match_the_orders(console):
    say(console, "bob@demo: /me", "leader@demo: /settier @bob silver loyal")
    say(console, f"leader@demo: {APPLES}", "amy@demo: +2", "bob@demo: +1", "cat@demo: +1",
        "leader@demo: /close")
    out = say(console, "leader@demo: /export")
    assert out[0] == "bot -> leader@demo: #1 有機蘋果 的訂單（CSV）："
    path = Path(out[1].split(": ", 1)[1])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle_:
        rows = list(csv.DictReader(handle_))
    orders = fetch(console, select(Order, Member.display_name)
                   .join(Member, Member.id == Order.member_id).order_by(Order.id))
    assert [(int(r["訂單編號"]), r["會員"], int(r["數量"]), r["應付金額"]) for r in rows] == [
        (o.id, name, o.quantity, major(o.net)) for o, name in orders]
    assert [(r["會員"], r["原價"], r["等級折扣"], r["應付金額"], r["狀態"])
            for r in rows] == [("amy", "700", "0", "700", "已保留"),
                               ("bob", "350", "18", "332", "已保留"),
                               ("cat", "350", "0", "350", "已取消")]  # closed: no more waiting
    assert rows[0]["商品名稱"] == "有機蘋果"
    assert rows[0]["下單時間"] == "2026-03-10T12:00:00+08:00"


def test_export_is_for_staff_only(console):
    say(console, f"leader@demo: {APPLES}")
    assert say(console, "amy@demo: /export") == [f"bot -> amy@demo: {STAFF_ONLY}"]


# 10. My orders ------------------------------------------------------------------------------


def test_my_orders_lists_only_my_own_orders(console):
    assert say(console, "amy: /orders") == ["bot -> amy: 你還沒有訂單。在團購下輸入 +1 即可跟團。"]
    say(console, "leader@demo: /open 有機蘋果 | 350 | 2 | 2h", "amy@demo: +2", "bob@demo: +1",
        "amy@demo: /cancel", "leader@demo: /open 梨 | 80 | - | 3h", "amy@demo: +1")
    amy_orders = orders_of(console, "amy")
    out = say(console, "amy: /orders")
    assert out == [
        "bot -> amy: 你的訂單：\n"
        f"編號 {amy_orders[1].id} · #2 梨 × 1 · NT$80 · 已保留\n"
        f"編號 {amy_orders[0].id} · #1 有機蘋果 × 2 · NT$700 · 已取消"
    ]
    bob = say(console, "bob: /lang en", "bob: /orders")[1]
    bob_order = orders_of(console, "bob")[0]
    assert bob == ("bot -> bob: Your orders:\n"
                   f"No. {bob_order.id} · #1 有機蘋果 × 1 · NT$350 · reserved")


def test_my_orders_in_the_group_are_answered_in_private_once_started(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1")
    assert say(console, "amy@demo: /orders")[0].startswith("bot -> amy@demo: 你的訂單：")
    started(console, "amy")
    assert say(console, "amy@demo: 我的訂單")[0].startswith("bot -> amy: 你的訂單：")
