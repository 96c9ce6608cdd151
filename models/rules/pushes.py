"""Rules every push obeys: quiet hours in the community's time zone, a weekly cap."""

from __future__ import annotations

from datetime import time


def parse_clock(text: str) -> time:
    """'22:00' → time(22, 0)."""
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def in_quiet_hours(now: time, start: time, end: time) -> bool:
    """Quiet from `start` to `end`, across midnight when start > end (22:00–08:00)."""
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def under_cap(sent_this_week: int, cap: int | None) -> bool:
    """A member gets at most `cap` promotional pushes a week (None: no cap)."""
    return cap is None or sent_this_week < cap
