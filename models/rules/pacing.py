"""Platform pacing: when the next push to a chat may leave without breaking a limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's published limits by default: 30/s per bot, 1/s per chat, 20/min per group."""

    per_bot: int = 30
    per_bot_window: timedelta = timedelta(seconds=1)
    per_chat: int = 1
    per_chat_window: timedelta = timedelta(seconds=1)
    per_group: int = 20
    per_group_window: timedelta = timedelta(minutes=1)


def _window_opens(sent: Sequence[datetime], limit: int, window: timedelta) -> datetime | None:
    """With `sent` ascending, the moment one more send fits within `limit` per `window`.

    `sent` may reach further back than `window`; only the last `limit` sends matter.
    """
    if limit <= 0 or len(sent) < limit:
        return None
    return sent[-limit] + window


def next_slot(
    now: datetime,
    sent_by_bot: Sequence[datetime],
    sent_to_chat: Sequence[datetime],
    is_group: bool,
    limits: Limits = Limits(),
) -> datetime:
    """The earliest moment ≥ now at which one more message respects every limit."""
    windows = [(limits.per_chat, limits.per_chat_window)]
    if is_group:
        windows.append((limits.per_group, limits.per_group_window))
    candidates = [now]
    opens = _window_opens(sent_by_bot, limits.per_bot, limits.per_bot_window)
    if opens is not None:
        candidates.append(opens)
    for limit, window in windows:
        opens = _window_opens(sent_to_chat, limit, window)
        if opens is not None:
            candidates.append(opens)
    return max(candidates)


def next_month_start(now: datetime, zone: tzinfo) -> datetime:
    """Midnight of the 1st of the next month in `zone` (when a monthly quota starts anew)."""
    local = now.astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=zone)
