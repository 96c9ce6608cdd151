"""Rules every push obeys: quiet hours in the community's time zone, a weekly cap.

Kept for its callers; the whole decision is `models.rules.notify.decide`."""

from __future__ import annotations

from models.rules.notify import in_quiet_hours, parse_clock

__all__ = ["in_quiet_hours", "parse_clock", "under_cap"]


def under_cap(sent_this_week: int, cap: int | None) -> bool:
    """A member gets at most `cap` promotional pushes a week (None: no cap)."""
    return cap is None or sent_this_week < cap
