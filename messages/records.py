"""A Reply as plain JSON and back, whole (text, buttons, image, file, private flag, card,
hints): the one serializer, for the outbox body and for the answer the inbox keeps, so an
answer or a push that leaves later is exactly the one that was made."""

from __future__ import annotations

from collections.abc import Mapping
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
