"""Payment and pickup rules, pure: when a payment or pickup reminder is due, how a leader's
arrival notice splits into a place and an end of pickup, what counts as a 1–5 rating."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.rules.deadline import parse_deadline
from models.rules.text import chinese_number, fold

MIN_SCORE, MAX_SCORE = 1, 5
LOW_SCORE = 2  # a rating this low reaches the leader at once
MAX_COMMENT = 200
MAX_PLACE = 100
_SCORE = re.compile(r"^(?P<n>[0-9]|[一二三四五六七八九十零〇兩两])\s*(?:分|星|顆星|颗星|★)?$")


@dataclass(frozen=True)
class ReminderPlan:
    """Payment reminders: the first `after` the close, then every `gap`, `count` at most."""

    after: timedelta
    gap: timedelta
    count: int


def payment_reminder_due(closed_at: datetime, now: datetime, plan: ReminderPlan) -> int | None:
    """The reminder (1 … count) whose time has come by `now`; None before the first."""
    if plan.count < 1 or now < closed_at + plan.after:
        return None
    if plan.gap <= timedelta(0):
        return plan.count
    passed = (now - closed_at - plan.after) // plan.gap
    return min(plan.count, passed + 1)


def pickup_reminder_due(until: datetime, now: datetime) -> bool:
    """In the last day of the pickup window (and not after it)."""
    return until - timedelta(days=1) <= now < until


def parse_score(text: str) -> int | None:
    """'4', '４', '四', '4分', '4星' → 4; anything not a whole 1–5 → None."""
    match = _SCORE.match(fold(text).strip())
    if match is None:
        return None
    raw = match["n"]
    score = int(raw) if raw.isascii() else chinese_number(raw)
    return score if score is not None and MIN_SCORE <= score <= MAX_SCORE else None


def arrival(text: str, now_local: datetime, default_days: int) -> tuple[str, datetime] | None:
    """'大樓管理室 週五 20:00' or '社區大門 | 3/12 18:00' → the place and the end of pickup
    (perhaps past: the caller refuses it); no time given: `default_days` from now. None
    when no place is named."""
    text = " ".join(text.split())
    if "|" in text or "｜" in text:
        place, _, when = text.replace("｜", "|").partition("|")
        until = parse_deadline(when, now_local) if when.strip() else None
        if when.strip() and until is None:
            return None
        return _place(place, until, now_local, default_days)
    words = text.split(" ")
    for cut in range(len(words)):  # the longest trailing words that read as a time
        until = parse_deadline(" ".join(words[cut:]), now_local)
        if until is not None:  # cut 0: a time and no place
            return _place(" ".join(words[:cut]), until, now_local, default_days)
    return _place(text, None, now_local, default_days)


def _place(place: str, until: datetime | None, now_local: datetime,
           default_days: int) -> tuple[str, datetime] | None:
    place = place.strip()[:MAX_PLACE]
    if not place:
        return None
    return place, until or now_local + timedelta(days=default_days)


def average_tenths(scores: list[int]) -> int | None:
    """The average in tenths (4.5 → 45), rounded half up; None without ratings."""
    if not scores:
        return None
    return (sum(scores) * 20 + len(scores)) // (2 * len(scores))
