"""On LINE the distributor card (/distributor) is a Flex bubble: the card's lines as
label/value rows, the full text as its alt text."""

from __future__ import annotations

from bot.line_send import to_messages
from handlers.dispatch import handle
from messages.types import Incoming
from tests.conftest import say
from tests.distribution_helpers import everyone_distributes


def flex_texts(node: object) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in flex_texts(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if node.get("type") == "text" else []
    return own + [t for key, value in node.items() if key != "action" for t in flex_texts(value)]


def test_the_distributor_card_is_a_flex_bubble_on_line(console):
    everyone_distributes(console)
    say(console, "leader: /start")
    [reply] = handle(Incoming("line", "U-amy", "U-amy", "/distributor", "U-amy-1", handle="amy",
                              sender_name="Amy"), console.deps)
    assert reply.card == {"kind": "distributor"}
    [message] = to_messages(reply)
    drawn = message.to_dict()
    assert drawn["type"] == "flex" and drawn["altText"] == reply.text[:400]
    assert drawn["contents"]["header"]["contents"][0]["text"] == "Amy · 分銷商"
    body = flex_texts(drawn["contents"]["body"])
    assert "待確認佣金" in body and "NT$0" in body  # "label：value" as two columns
    assert any("line.me" in t for t in body)  # the LINE referral link
