"""Hostile input through the console: broken unicode, NUL, numbers no column can hold.

`handle` never raises and never answers the generic error template to input a member or a
leader could type; the text is cleaned once, where every channel builds its `Incoming`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console import ConsoleChannel
from handlers.dispatch import FALLBACK_ERROR, MAX_INBOUND, handle
from messages.render import Renderer
from messages.types import Incoming
from models.rules.orders_csv import RowError, parse_orders
from models.tables import Order, PointsEntry
from tests.conftest import say
from tests.groupbuy_helpers import count, fetch, member, orders_of

ERROR = "抱歉，系統暫時出了點問題，請稍後再試。"
USAGE_JOIN = "跟團請輸入 +1（或 +2、加1、/join 2）。數量須為 1 到 9999 的整數。"
NO_SUCH = "本團沒有這些可處理的訂單："
USAGE_GRANT = "用法：/grant @名稱 點數 原因"
USAGE_DEDUCT = "用法：/deduct @名稱 點數 原因"
USAGE_POINTS = "用法：/usepoints 點數"
BROKEN_NAMES = [("Amy\ud83d", "Amy\ufffd"), ("A\x00my", "Amy"), ("\ud83dAmy\x1b", "\ufffdAmy")]


def group_message(sender: str, name: str, text: str, n: int, **extra: object) -> Incoming:
    return Incoming(channel="console", chat="demo", sender=sender, text=text, message_id=f"h{n}",
                    is_group=True, sender_name=name, handle=name, **extra)  # type: ignore[arg-type]


# Broken unicode and control characters --------------------------------------------------------


def test_incoming_replaces_lone_surrogates_and_drops_controls_but_keeps_pairs_newlines_and_tabs():
    msg = Incoming(channel="console", chat="c\x00", sender="s\x07", text="a\x00b\r\n\tc\ud83d",
                   message_id="1", sender_name="\ud83d\ude00 Amy\ud83d", handle="a\x00my",
                   reply_to_name="Bo\udc00", reply_to_handle="b\x00o", payload="p\x1b")
    assert (msg.chat, msg.sender, msg.text) == ("c", "s", "ab\n\tc\ufffd")
    assert (msg.sender_name, msg.handle) == ("\U0001f600 Amy\ufffd", "amy")
    assert (msg.reply_to_name, msg.reply_to_handle, msg.payload) == ("Bo\ufffd", "bo", "p")
    assert msg.event_key == "c:1"


@pytest.mark.parametrize(("name", "cleaned"), BROKEN_NAMES)
def test_a_name_cut_in_an_emoji_or_holding_a_nul_is_cleaned_and_answered(console: ConsoleChannel,
                                                                          name: str, cleaned: str):
    say(console, "leader@demo: /open 蘋果 | 350 | 5 | 2h")
    out = [handle(group_message(f"u-{i}", name, text, i), console.deps)
           for i, text in enumerate(["hello", "/me", "+1"])]
    assert out[0] == [] and out[2] == []  # chatter, and a '+1' the roster answers
    assert [r.text.split(" ·")[0] for r in out[1]] == [cleaned]
    assert count(console, Order) == 1


@pytest.mark.parametrize("text", ["hello \ud83d", "你好\x00", "/me\x00", "+1\ud83d", "\x00\x00"])
def test_broken_text_from_a_new_member_never_raises_nor_errs(console: ConsoleChannel, text: str):
    say(console, "leader@demo: /open 蘋果 | 350 | 5 | 2h")
    replies = handle(group_message("u-1", "Amy", text, 1), console.deps)
    assert all(ERROR not in r.text for r in replies)
    assert (len(replies) == 1) == text.startswith("/me")


def test_a_leader_replying_to_a_broken_name_grants_points(console: ConsoleChannel):
    say(console, "leader@demo: /me")
    msg = group_message("leader", "leader", "/grant 30 nice photo", 1, reply_to_sender="bo-1",
                        reply_to_name="Bo\ud83d\x00", reply_to_handle="bo\ud83d")
    replies = handle(msg, console.deps)
    assert len(replies) == 1 and "30" in replies[0].text and ERROR not in replies[0].text
    entries = fetch(console, select(PointsEntry))
    assert [e.delta for e in entries] == [30]


# Numbers no column can hold --------------------------------------------------------------------


@pytest.mark.parametrize(("line", "expected"), [
    ("leader@demo: /cancelorder 99999999999999999999", NO_SUCH),
    ("leader@demo: /paid 3000000000", NO_SUCH),
    ("leader@demo: /delivered 2147483648", NO_SUCH),
    ("leader@demo: /paid " + "9" * 4000, NO_SUCH),
    ("leader@demo: /grant @amy 99999999999999999999 r", USAGE_GRANT),
    ("leader@demo: /deduct @amy 3000000000 r", USAGE_DEDUCT),
    ("amy@demo: /usepoints 1e30", USAGE_POINTS),
    ("amy@demo: /usepoints 99999999999", USAGE_POINTS),
    ("amy@demo: /join 99999999999", USAGE_JOIN),
    ("amy@demo: /join " + "9" * 4000, USAGE_JOIN),
    ("amy@demo: +99999999999", USAGE_JOIN),
    ("amy@demo: +" + "9" * 4000, USAGE_JOIN),
])
def test_a_number_too_large_for_the_database_gets_usage_or_a_refusal(console: ConsoleChannel,
                                                                     line: str, expected: str):
    say(console, "leader@demo: /open 蘋果 | 350 | 5 | 2h", "amy@demo: +1", "leader: /start")
    out = say(console, line)
    assert len(out) == 1 and expected in out[0] and ERROR not in out[0]
    assert [o.quantity for o in orders_of(console, "amy")] == [1]
    assert fetch(console, select(PointsEntry)) == []


def test_a_line_costing_more_than_an_amount_column_holds_is_over_the_limit(console: ConsoleChannel):
    say(console, "leader@demo: /open 鑽石 | 1000000 | - | 2h | - | - | 100", "amy: /start")
    out = say(console, "amy@demo: /join 9999")
    assert out == ["bot -> amy: #1 鑽石 每人限購 21 份。"]
    assert "已為你保留 21 份" in say(console, "amy@demo: /join 21")[0]
    assert [o.list_price for o in orders_of(console, "amy")] == [2_100_000_000]


def test_a_csv_price_or_line_too_large_for_the_database_is_a_bad_row():
    text = ("order_id,member,product,quantity,unit_price\n"
            "A,amy,pear,1,99999999999999999999\nB,amy,pear,9999,1000000\nC,amy,pear,2,5\n")
    rows, errors = parse_orders(text)
    assert [r.external_id for r in rows] == ["C"]
    assert errors == [RowError(2, "bad_price", "unit_price", "99999999999999999999"),
                      RowError(3, "bad_quantity", "quantity", "9999")]


# Paths and lengths ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["a" * 300, "b" * 4000, "/tmp/a\x00b.csv", "/" + "x/" * 300 + "f.csv", "."])
def test_an_import_path_too_long_or_broken_says_file_not_found(console: ConsoleChannel, path: str):
    out = say(console, f"leader: /import {path}")
    assert len(out) == 1 and out[0].startswith("bot -> leader: 找不到檔案：")
    assert ERROR not in out[0]


def test_an_import_of_a_missing_file_names_it(console: ConsoleChannel, tmp_path: Path):
    missing = tmp_path / "orders.csv"
    assert say(console, f"leader: /import {missing}") == [
        f"bot -> leader: 找不到檔案：{missing}。未匯入任何資料。"]


def test_a_message_too_long_is_answered_in_private_and_ignored_in_a_group(console: ConsoleChannel):
    too_long = f"bot -> amy: 訊息太長了（最多 {MAX_INBOUND} 字），請縮短後再傳。"
    assert say(console, "amy: /me " + "x" * MAX_INBOUND) == [too_long]
    assert say(console, "amy: /import " + "a" * 5000) == [too_long]
    assert say(console, "amy@demo: /me " + "x" * MAX_INBOUND) == []
    assert say(console, "amy: /me")[0].startswith("bot -> amy: amy ·")
    assert member(console, "amy").display_name == "amy"


def test_handle_answers_even_when_its_templates_are_missing(console: ConsoleChannel, tmp_path: Path):
    broken = replace(console.deps, renderer=Renderer(tmp_path))  # no template at all
    replies = handle(Incoming(channel="console", chat="amy", sender="amy", text="/me",
                              message_id="t1"), broken)
    assert [r.text for r in replies] == [FALLBACK_ERROR]
