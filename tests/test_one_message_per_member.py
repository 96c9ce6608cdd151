"""One message per member per event: several of one member's lines closed, cancelled,
delivered or promoted at once are told in one message that lists them."""

from __future__ import annotations

from tests.conftest import say
from tests.groupbuy_helpers import orders_of


def _to(out: list[str], who: str) -> list[str]:
    return [line for line in out if line.startswith(f"bot -> {who}: ")]


def test_closing_a_buy_tells_a_member_once_of_all_their_waiting_lines(console):
    say(console, "amy: /start", "bob: /start", "leader@demo: /open 蘋果 | 100 | 1 | 2h",
        "amy@demo: +1", "bob@demo: +1", "bob@demo: +2")
    out = say(console, "leader@demo: /close")
    [told] = _to(out, "bob")
    assert "你候補的 3 份這次沒有輪到" in told


def test_a_leader_cancelling_several_lines_of_a_member_sends_one_message_listing_them(console):
    say(console, "amy: /start", "leader@demo: /open 蘋果 | 100 | 10 | 2h",
        "amy@demo: +1", "amy@demo: +2")
    first, second = (o.id for o in orders_of(console, "amy"))
    out = say(console, f"leader@demo: /cancelorder {first} {second}")
    [told] = _to(out, "amy")
    assert f"你的訂單編號 {first}、{second}（蘋果 × 3）已由團主取消" in told


def test_delivering_several_lines_of_a_member_sends_one_message(console):
    say(console, "amy: /start", "leader@demo: /open 蘋果 | 100 | 10 | 2h",
        "amy@demo: +1", "amy@demo: +2")
    out = say(console, "leader@demo: /delivered all")
    [told] = _to(out, "amy")
    first, second = (o.id for o in orders_of(console, "amy"))
    assert f"已到貨（訂單編號 {first}、{second}）" in told


def test_several_waiting_lines_of_a_member_promoted_at_once_are_one_message(console):
    say(console, "amy: /start", "bob: /start", "leader@demo: /open 蘋果 | 100 | 3 | 2h",
        "amy@demo: +3", "bob@demo: +1", "bob@demo: +2")
    out = say(console, "amy@demo: /cancel")
    [told] = _to([line for line in out if "好消息" in line], "bob")
    assert "你候補的 3 份已轉為正式訂單" in told
