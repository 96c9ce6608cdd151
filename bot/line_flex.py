"""A reply's card as a LINE Flex bubble. Pure: facts in, the bubble's JSON out (as the
Messaging API documents it; built directly, not through the SDK's models, which validate
every component on the hot path).

A card is channel-neutral data a handler puts on its Reply (`Reply.card`); its words come
from the reply's text, already in the member's language: the first line is the bubble's
header, the other lines its body ("label：value" lines as two columns). The card's facts
add what a chat bubble shows better than a line of text:

    {"kind": "member", "tier": "金", "points": 1234, "debt": 30, ...}    the member card (/me)
    {"kind": "groupbuy", "price": "NT$350", "left": 7, "stock": 10,
     "deadline": "12-01 20:00", "joined": [["Amy", 2]], ...}          the roster

The reply's buttons (at most four) become the bubble's footer buttons (postbacks).
Whether the bubble fits LINE's limits is for the caller (`bot.line_send`) to check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from messages.types import Button

Json = dict[str, Any]

MAX_CARD_LINES = 30
MAX_FOOTER_BUTTONS = 4
MAX_BUTTON_LABEL = 20
MAX_DATA = 300
MAX_LINE = 2000
MAX_JOINED = 40  # as many as the roster's text lists
GREEN, GREY, RED = "#06C755", "#8C8C8C", "#D93025"
_NUMBERED = re.compile(r"^\d+\.\s")  # "1. Amy ×2": a roster's line, drawn from its facts
_LABELLED = re.compile(r"^(?P<label>[^：:]{1,24})(?:：|: )(?P<value>.+)$")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bubble(card: Mapping[str, object], text: str, buttons: Sequence[Button]) -> Json:
    """The card as one bubble: header, the facts, the text's lines, the buttons."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    title = str(card.get("title") or lines[0])
    rest = lines if card.get("title") else lines[1:]
    kind = card.get("kind")
    facts = (member_facts(card) if kind == "member"
             else groupbuy_facts(card) if kind == "groupbuy" else [])
    if kind == "groupbuy":
        rest = [line for line in rest if not _NUMBERED.match(line)]  # drawn from the facts
    rows = [_row(line) for line in rest][:MAX_CARD_LINES]
    contents = facts + ([{"type": "separator", "margin": "md"}] if facts and rows else []) + rows
    drawn: Json = {"type": "bubble", "header": _box("vertical", [
        _text(clip(title, 200), weight="bold", size="lg", wrap=True)])}
    if contents:
        drawn["body"] = _box("vertical", contents, spacing="sm")
    if buttons:
        drawn["footer"] = footer_buttons(buttons)
    return drawn


def _text(text: str, **style: Any) -> Json:
    return {"type": "text", "text": text, **style}


def _box(layout: str, contents: list[Json], **style: Any) -> Json:
    return {"type": "box", "layout": layout, **style, "contents": contents}


def postback(label: str, data: str, limit: int) -> Json:
    """A postback action; the label shows in the chat as what was tapped."""
    return {"type": "postback", "label": clip(label, limit), "data": data[:MAX_DATA],
            "displayText": clip(label, 300)}


def member_facts(card: Mapping[str, object]) -> list[Json]:
    """The tier as a badge beside the points, large; what is owed, in red, under them."""
    top = [
        _text(clip(str(card.get("tier") or "-"), 40), weight="bold", size="xl", color=GREEN,
              flex=0, gravity="center"),
        _text(f"★ {_number(card.get('points'))}", weight="bold", size="xxl", align="end",
              gravity="center"),
    ]
    facts = [_box("horizontal", top, spacing="md")]
    debt = card.get("debt")
    if isinstance(debt, int) and debt > 0:
        facts.append(_text(f"− {debt:,}", size="sm", color=RED, align="end"))
    return facts


def groupbuy_facts(card: Mapping[str, object]) -> list[Json]:
    """Price, stock left and deadline in a row; then who joined, one line each."""
    left, stock = card.get("left"), card.get("stock")
    stock_text = f"{left} / {stock}" if stock is not None else f"{card.get('taken', 0)}"
    stats = [
        _text(clip(str(card.get("price") or "-"), 40), weight="bold", size="lg", color=GREEN,
              flex=0),
        _text(f"📦 {stock_text}", size="sm", align="center", gravity="center"),
        _text(f"⏰ {card.get('deadline') or '-'}", size="sm", align="end", gravity="center"),
    ]
    facts = [_box("horizontal", stats, spacing="sm")]
    joined = card.get("joined")
    people = [p for p in joined if isinstance(p, (list, tuple)) and len(p) == 2] \
        if isinstance(joined, list) else []
    for n, (name, units) in enumerate(people[:MAX_JOINED], 1):
        facts.append(_box("baseline", [
            _text(f"{n}. {clip(str(name) or '?', 60)}", size="sm", flex=4, wrap=True),
            _text(f"×{units}", size="sm", align="end", flex=1),
        ], spacing="sm"))
    return facts


def footer_buttons(buttons: Sequence[Button]) -> Json:
    """Postback buttons; the label shows in the chat as what was tapped."""
    return _box("vertical", [
        {"type": "button", "style": "primary", "color": GREEN, "height": "sm",
         "action": postback(b.label, b.data, MAX_BUTTON_LABEL)}
        for b in buttons[:MAX_FOOTER_BUTTONS]
    ], spacing="sm")


def _row(line: str) -> Json:
    """"label：value" as a grey label beside its value; any other line as wrapped text."""
    found = _LABELLED.match(line)
    if found is None:
        return _text(clip(line, MAX_LINE), size="sm", wrap=True)
    return _box("baseline", [
        _text(found["label"].strip(), size="sm", color=GREY, flex=2, wrap=True),
        _text(clip(found["value"].strip(), MAX_LINE), size="sm", flex=5, wrap=True),
    ], spacing="sm")


def _number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value or 0)
