"""A reply's card as a LINE Flex bubble. Pure: facts in, SDK models out.

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

from linebot.v3.messaging import (
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexComponent,
    FlexSeparator,
    FlexText,
    PostbackAction,
)

from messages.types import Button

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


def bubble(card: Mapping[str, object], text: str, buttons: Sequence[Button]) -> FlexBubble:
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
    contents = facts + ([FlexSeparator(margin="md")] if facts and rows else []) + rows
    footer = footer_buttons(buttons) if buttons else None
    return FlexBubble(
        header=FlexBox(layout="vertical", contents=[
            FlexText(text=clip(title, 200), weight="bold", size="lg", wrap=True),
        ]),
        body=FlexBox(layout="vertical", spacing="sm", contents=contents) if contents else None,
        footer=footer,
    )



def member_facts(card: Mapping[str, object]) -> list[FlexComponent]:
    """The tier as a badge beside the points, large; what is owed, in red, under them."""
    top: list[FlexComponent] = [
        FlexText(text=clip(str(card.get("tier") or "-"), 40), weight="bold", size="xl",
                 color=GREEN, flex=0, gravity="center"),
        FlexText(text=f"★ {_number(card.get('points'))}", weight="bold", size="xxl",
                 align="end", gravity="center"),
    ]
    facts: list[FlexComponent] = [FlexBox(layout="horizontal", spacing="md", contents=top)]
    debt = card.get("debt")
    if isinstance(debt, int) and debt > 0:
        facts.append(FlexText(text=f"− {debt:,}", size="sm", color=RED, align="end"))
    return facts


def groupbuy_facts(card: Mapping[str, object]) -> list[FlexComponent]:
    """Price, stock left and deadline in a row; then who joined, one line each."""
    left, stock = card.get("left"), card.get("stock")
    stock_text = f"{left} / {stock}" if stock is not None else f"{card.get('taken', 0)}"
    stats: list[FlexComponent] = [
        FlexText(text=clip(str(card.get("price") or "-"), 40), weight="bold", size="lg",
                 color=GREEN, flex=0),
        FlexText(text=f"📦 {stock_text}", size="sm", align="center", gravity="center"),
        FlexText(text=f"⏰ {card.get('deadline') or '-'}", size="sm", align="end",
                 gravity="center"),
    ]
    facts: list[FlexComponent] = [FlexBox(layout="horizontal", spacing="sm", contents=stats)]
    joined = card.get("joined")
    people = [p for p in joined if isinstance(p, (list, tuple)) and len(p) == 2] \
        if isinstance(joined, list) else []
    for n, (name, units) in enumerate(people[:MAX_JOINED], 1):
        facts.append(FlexBox(layout="baseline", spacing="sm", contents=[
            FlexText(text=f"{n}. {clip(str(name) or '?', 60)}", size="sm", flex=4, wrap=True),
            FlexText(text=f"×{units}", size="sm", align="end", flex=1),
        ]))
    return facts


def footer_buttons(buttons: Sequence[Button]) -> FlexBox:
    """Postback buttons; the label shows in the chat as what was tapped."""
    return FlexBox(layout="vertical", spacing="sm", contents=[
        FlexButton(style="primary", color=GREEN, height="sm", action=PostbackAction(
            label=clip(b.label, MAX_BUTTON_LABEL), data=b.data[:MAX_DATA],
            displayText=clip(b.label, 300)))
        for b in buttons[:MAX_FOOTER_BUTTONS]
    ])


def _row(line: str) -> FlexComponent:
    """"label：value" as a grey label beside its value; any other line as wrapped text."""
    found = _LABELLED.match(line)
    if found is None:
        return FlexText(text=clip(line, MAX_LINE), size="sm", wrap=True)
    return FlexBox(layout="baseline", spacing="sm", contents=[
        FlexText(text=found["label"].strip(), size="sm", color=GREY, flex=2, wrap=True),
        FlexText(text=clip(found["value"].strip(), MAX_LINE), size="sm", flex=5, wrap=True),
    ])


def _number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value or 0)
