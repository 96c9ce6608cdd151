"""Campaigns as leaders write them, and who gets which variant (pure).

    /campaign new 會員日 segment=媽媽回購 at=2026-12-08T10:00 holdout=10% multiplier=2 | 嗨 {{name}} || 哈囉
    /campaign new 會員日 segment=媽媽回購 every=month:8@10:00 | 今天會員日，{{buy}} 雙倍積分

Options before the first `|`, the message after it; `||` separates variant A from variant B.
`at=` a local time (2026-12-08T10:00, 12-08T10:00, 'now'); `every=` a repeating schedule:
`month:8@10:00` (the 8th of every month, 10:00), `week:1@10:00` (Mondays; 1–7), `day@10:00`.
Neither: at the next scheduler tick. `holdout=` 1–90 % kept back to measure against;
`multiplier=` ×1–×5 points on purchases by recipients within the conversion window.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from models.rules.deadline import parse_deadline
from models.rules.text import fold

MAX_NAME = 32
MAX_MESSAGE = 1_000  # characters of one variant's text
MIN_HOLDOUT, MAX_HOLDOUT = 1, 90
MAX_MULTIPLIER_PCT = 500
KEYS = {"segment": "segment", "分群": "segment", "at": "at", "時間": "at", "时间": "at",
        "every": "every", "每": "every", "holdout": "holdout", "保留": "holdout",
        "multiplier": "multiplier", "倍數": "multiplier", "倍数": "multiplier"}
_SCHEDULE = re.compile(r"^(?:(?P<unit>month|week):(?P<day>\d{1,2})|(?P<daily>day))"
                       r"@(?P<h>\d{1,2}):(?P<m>\d{2})$")
_PCT = re.compile(r"^(\d{1,3})\s*%?$")
_MULTIPLIER = re.compile(r"^[x×]?(\d)(?:\.(\d{1,2}))?$")
VARIANT_A, VARIANT_B, HOLDOUT = "A", "B", "H"


class CampaignError(ValueError):
    """What is wrong with a campaign as written: `problem` names it, `value` shows it."""

    def __init__(self, problem: str, value: str = "") -> None:
        super().__init__(f"{problem}: {value}")
        self.problem = problem
        self.value = value


@dataclass(frozen=True, slots=True)
class Schedule:
    """Repeating: 'month' on `day` (1–31: the month's last day when shorter), 'week' on
    `day` (1 = Monday … 7 = Sunday), or 'day'; at `at` local time."""

    unit: str
    day: int
    at: time

    def text(self) -> str:
        clock = self.at.strftime("%H:%M")
        return f"day@{clock}" if self.unit == "day" else f"{self.unit}:{self.day}@{clock}"


@dataclass(frozen=True, slots=True)
class Draft:
    """A campaign as written, checked (the message is checked by the template sandbox)."""

    name: str
    segment: str
    messages: tuple[str, ...]  # A, or A and B
    holdout_pct: int = 0
    multiplier_pct: int = 100
    at: datetime | None = None  # local; None with no schedule: at once
    schedule: Schedule | None = None


def parse_schedule(text: str) -> Schedule | None:
    match = _SCHEDULE.match(fold(text).strip().lower())
    if match is None:
        return None
    hour, minute = int(match["h"]), int(match["m"])
    if hour > 23 or minute > 59:
        return None
    unit = "day" if match["daily"] else match["unit"]
    day = 0 if unit == "day" else int(match["day"])
    if (unit == "month" and not 1 <= day <= 31) or (unit == "week" and not 1 <= day <= 7):
        return None
    return Schedule(unit, day, time(hour, minute))


def next_run(schedule: Schedule, after_local: datetime) -> datetime:
    """The first moment of the schedule strictly after `after_local` (a local time): a run
    missed while nobody was scheduling is caught up once, then the schedule goes on."""
    day = after_local.date()
    for _ in range(400):
        if _matches(schedule, day):
            when = datetime.combine(day, schedule.at, tzinfo=after_local.tzinfo)
            if when > after_local:
                return when
        day += timedelta(days=1)
    raise AssertionError("a schedule always matches within a year")


def _matches(schedule: Schedule, day: date) -> bool:
    if schedule.unit == "day":
        return True
    if schedule.unit == "week":
        return day.isoweekday() == schedule.day
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(schedule.day, last)


def parse_holdout(text: str) -> int:
    match = _PCT.match(fold(text).strip())
    share = int(match[1]) if match else -1
    if not MIN_HOLDOUT <= share <= MAX_HOLDOUT:
        raise CampaignError("holdout", text)
    return share


def parse_multiplier(text: str) -> int:
    """'2', 'x1.5', '×2' → percent (200, 150); ×1 to ×5."""
    match = _MULTIPLIER.match(fold(text).strip().lower())
    if match is None:
        raise CampaignError("multiplier", text)
    pct = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
    if not 100 <= pct <= MAX_MULTIPLIER_PCT:
        raise CampaignError("multiplier", text)
    return pct


def parse_when(text: str, now_local: datetime) -> datetime | None:
    """'2026-12-08T10:00', '12-08 10:00', 'now' → a local time still ahead (None: at once);
    CampaignError('past') for one gone, ('when') for one unreadable."""
    folded = fold(text).strip().lower()
    if folded in ("now", "現在", "现在", "立即", "-"):
        return None
    when = parse_deadline(folded.replace("t", " ", 1) if folded[:1].isdigit() else folded,
                          now_local)
    if when is None:
        raise CampaignError("when", text)
    if when <= now_local:
        raise CampaignError("past", when.strftime("%Y-%m-%d %H:%M"))
    return when


def split_messages(text: str) -> tuple[str, ...]:
    """'A || B' → ('A', 'B'); no empty variant, at most two."""
    parts = tuple(part.strip() for part in text.split("||"))
    if not parts or any(not part for part in parts) or len(parts) > 2:
        raise CampaignError("message", text[:40])
    return parts


def check_name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > MAX_NAME or any(ch in name for ch in "=|#@ "):
        raise CampaignError("name", text[:40])
    return name


def parse_line(text: str, now_local: datetime) -> Draft:
    """`NAME key=value … | message A || message B` → a Draft, or CampaignError."""
    head, bar, body = text.partition("|")
    words = head.split()
    if not bar or not words:
        raise CampaignError("usage")
    options: dict[str, str] = {}
    for word in words[1:]:
        key, eq, value = fold(word).partition("=")
        if not eq or key.lower() not in KEYS or not value:
            raise CampaignError("option", word)
        options[KEYS[key.lower()]] = value
    return draft(check_name(words[0]), options, split_messages(body), now_local)


def draft(name: str, options: dict[str, str], messages: tuple[str, ...],
          now_local: datetime) -> Draft:
    """A Draft from checked options (one line or the guided flow's answers)."""
    segment = options.get("segment", "").strip()
    if not segment:
        raise CampaignError("segment")
    schedule = None
    if "every" in options:
        schedule = parse_schedule(options["every"])
        if schedule is None:
            raise CampaignError("every", options["every"])
    at = parse_when(options["at"], now_local) if "at" in options else None
    if schedule is not None and at is not None:
        raise CampaignError("at_and_every")
    holdout = parse_holdout(options["holdout"]) if "holdout" in options else 0
    multiplier = parse_multiplier(options["multiplier"]) if "multiplier" in options else 100
    return Draft(name, segment[:64], messages, holdout, multiplier, at, schedule)


def bucket(campaign_id: int, member_id: int) -> int:
    """A member's fixed place (0–9999) in a campaign: the same in every run, independent
    across campaigns (BLAKE2b of 'campaign:member', the campaign's part hashed once)."""
    digest = _hashed(campaign_id).copy()
    digest.update(str(member_id).encode())
    return int.from_bytes(digest.digest(), "big") % 10_000


@lru_cache(maxsize=64)
def _hashed(campaign_id: int) -> hashlib.blake2b:
    return hashlib.blake2b(f"{campaign_id}:".encode(), digest_size=8)


def variant(campaign_id: int, member_id: int, holdout_pct: int, variants: int) -> str:
    """'H' for the holdout share, then 'A' / 'B' split evenly (all 'A' with one message)."""
    place = bucket(campaign_id, member_id)
    if place < holdout_pct * 100:
        return HOLDOUT
    if variants < 2:
        return VARIANT_A
    return VARIANT_A if (place - holdout_pct * 100) % 2 == 0 else VARIANT_B
