"""Platform limits from configuration: `bot=30/1s,chat=1/1s,group=20/1m` (and, for a
platform with a reply window, `window=48h,per_message=5`); `0` turns a limit off.
Whatever is not given keeps the platform's published default."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from models.rules.notify import ReplyWindow
from models.rules.pacing import Limits

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RATES = {"bot": ("per_bot", "per_bot_window"), "chat": ("per_chat", "per_chat_window"),
         "group": ("per_group", "per_group_window")}


def duration(text: str) -> timedelta:
    """'1s', '1m', '48h', '2d' (a bare number is seconds)."""
    text = text.strip().lower()
    unit = UNITS.get(text[-1:])
    number = text[:-1] if unit is not None else text
    return timedelta(seconds=float(number) * (unit or 1))


def parse(text: str, limits: Limits, window: ReplyWindow | None
          ) -> tuple[Limits, ReplyWindow | None]:
    """The limits with the settings of `text` applied; ValueError names a bad item."""
    for item in filter(None, (part.strip() for part in text.replace(" ", ",").split(","))):
        key, _, value = item.partition("=")
        key = key.strip().lower()
        try:
            if key in RATES:
                count, _, per = value.partition("/")
                name, span = RATES[key]
                changes: dict[str, Any] = {name: int(count), span: duration(per or "1s")}
                limits = replace(limits, **changes)
            elif key == "window":
                window = replace(window or ReplyWindow(), length=duration(value))
            elif key == "per_message":
                window = replace(window or ReplyWindow(), per_inbound=int(value))
            else:
                raise ValueError(key)
        except (ValueError, IndexError) as bad:
            raise ValueError(f"bad limit {item!r} (expected e.g. bot=30/1s)") from bad
    return limits, window
