"""Reply → LINE message objects: text, quick replies, an image, a Flex card. Pure.

LINE's limits shape it: at most 5,000 characters a text message (longer text becomes
several), at most 13 quick replies with labels of at most 20 characters and postback data
of at most 300, images only by https URL, at most five messages a call (the channel sends
more in batches). Quick replies show only on the last message, so they go there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from linebot.v3.messaging import (
    FlexBox,
    FlexBubble,
    FlexMessage,
    FlexText,
    ImageMessage,
    Message,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
)

from messages.types import Button, Reply

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_DATA = 300
MAX_ALT_TEXT = 400
MAX_CARD_LINES = 30


def to_messages(reply: Reply, image_url: str | None = None,
                file_url: str | None = None) -> list[Message]:
    """The LINE messages for one reply (any number; quick replies ride on the last one).

    `image_url` / `file_url`: public https links to the reply's image / file, or None to
    leave them out (LINE cannot upload a file; a file becomes a link under the text).
    """
    text = reply.text if len(reply.buttons) <= MAX_QUICK_REPLIES else reply.as_text()
    if file_url:
        text = f"{text}\n{file_url}" if text.strip() else file_url
    messages: list[Message] = []
    if reply.card and text.strip():
        messages.append(card_message(reply.card, text))
    else:
        messages.extend(TextMessage(text=part) for part in split_text(text))
    if image_url:
        messages.append(ImageMessage(originalContentUrl=image_url, previewImageUrl=image_url))
    if messages and reply.buttons:
        messages[-1].quick_reply = quick_reply(reply.buttons)
    return messages


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Text in pieces of at most `limit` characters, cut at a line break where one is near."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= limit:
            parts.append(rest)
            break
        cut = rest.rfind("\n", limit // 2, limit)
        cut = cut if cut > 0 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    return parts


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quick_reply(buttons: Sequence[Button]) -> QuickReply:
    """Buttons as postback quick replies; the label shows in the chat as what was tapped."""
    items = [
        QuickReplyItem(action=PostbackAction(
            label=clip(b.label, MAX_LABEL), data=b.data[:MAX_DATA], displayText=clip(b.label, 300),
        ))
        for b in buttons[:MAX_QUICK_REPLIES]
    ]
    return QuickReply(items=items)


def card_message(card: Mapping[str, object], text: str) -> FlexMessage:
    """A simple Flex bubble: the card's title (or the text's first line) over the text.

    `card` may carry "title"; anything else in it is not drawn yet.
    """
    lines = [line.strip() for line in text.strip().splitlines()]
    title = str(card.get("title") or lines[0])
    body = lines if card.get("title") else lines[1:]
    rows = [FlexText(text=clip(line, 2000), size="sm", wrap=True)
            for line in body if line][:MAX_CARD_LINES]
    bubble = FlexBubble(
        header=FlexBox(layout="vertical", contents=[
            FlexText(text=clip(title, 200), weight="bold", size="lg", wrap=True),
        ]),
        body=FlexBox(layout="vertical", spacing="sm", contents=rows) if rows else None,
    )
    return FlexMessage(altText=clip(text.strip(), MAX_ALT_TEXT), contents=bubble)
