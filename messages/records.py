"""A Reply as plain JSON and back, whole (buttons, image, file, private, hints): what the
inbox keeps so an answer that never left can be sent after a restart."""

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


def reply_from_record(record: Mapping[str, Any]) -> Reply:
    image, file = record.get("image"), record.get("file")
    return Reply(
        str(record.get("text") or ""),
        buttons=tuple(Button(str(label), str(data)) for label, data in record.get("buttons") or []),
        image=str(image) if image else None,
        file=str(file) if file else None,
        private=bool(record.get("private")),
        card=dict(record.get("card") or {}),
        hints={str(k): str(v) for k, v in (record.get("hints") or {}).items()},
    )
