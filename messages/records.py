"""A Reply as plain JSON and back, whole (text, buttons, image, file, private flag, card,
hints): the one serializer, for the outbox body and for the answer the inbox keeps, so an
answer or a push that leaves later is exactly the one that was made."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from json.encoder import encode_basestring_ascii
from typing import Any

from messages.types import Button, Reply


def reply_record(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "buttons": [[b.label, b.data] for b in reply.buttons],
        "image": reply.image,
        "file": reply.file,
        "private": reply.private,
        "card": dict(reply.card),
        "hints": dict(reply.hints),
    }


def reply_json(reply: Reply) -> str:
    """`json.dumps(reply_record(reply))`, the same text, made faster for the common push (text
    and buttons only: the buttons' part is made once per set of buttons)."""
    if reply.image is not None or reply.file is not None or reply.card or reply.hints:
        return json.dumps(reply_record(reply))
    return (f'{{"text": {encode_basestring_ascii(reply.text)}, "buttons": '
            f'{_buttons_json(reply.buttons)}, "image": null, "file": null, '
            f'"private": {"true" if reply.private else "false"}, "card": {{}}, "hints": {{}}}}')


def text_json(text: str, buttons: tuple[Button, ...] = ()) -> str:
    """`reply_json(Reply(text, buttons=buttons))`, without making the Reply."""
    return (f'{{"text": {encode_basestring_ascii(text)}, "buttons": {_buttons_json(buttons)}, '
            f'"image": null, "file": null, "private": false, "card": {{}}, "hints": {{}}}}')


@lru_cache(maxsize=1024)
def _buttons_json(buttons: tuple[Button, ...]) -> str:
    return json.dumps([[b.label, b.data] for b in buttons])


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def reply_from_record(record: Mapping[str, Any]) -> Reply:
    return Reply(
        str(record.get("text") or ""),
        buttons=tuple(Button(str(label), str(data)) for label, data in record.get("buttons") or []),
        image=_optional(record.get("image")),
        file=_optional(record.get("file")),
        private=bool(record.get("private")),
        card=dict(record.get("card") or {}),
        hints={str(k): str(v) for k, v in (record.get("hints") or {}).items()},
    )
