"""Group-buy rules: reading '+1', deadlines, who may join when, how stock is split."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

_CHINESE_DIGITS = {"一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                   "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_PLUS = re.compile(
    r"^(?P<sign>\+|加)\s*(?P<n>-?\d+|[一二兩两三四五六七八九十])\s*"
    r"(?:份|個|个|組|组|盒|包|箱|斤|袋|瓶|件)?(?P<tail>.*)$", re.S)
_DEADLINE = re.compile(
    r"^(?:(?P<month>\d{1,2})[-/](?P<day>\d{1,2})\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})$"
)
_RELATIVE = re.compile(r"^(?P<n>\d{1,3})\s*(?P<unit>m|min|h|d|分鐘|分钟|小時|小时|天)$")
_UNITS = {"m": 1, "min": 1, "分鐘": 1, "分钟": 1, "h": 60, "小時": 60, "小时": 60,
          "d": 1440, "天": 1440}


MAX_DIGITS = 12  # more digits is a typo (or an attack), never an order
MAX_LINE_AMOUNT = 2**31 - 1  # a line's price (minor units) must fit an integer column


class BadQuantity(ValueError):
    """A quantity that is not a whole number of at least one, or has absurdly many digits."""


def _only_marks(text: str) -> bool:
    """Punctuation, symbols (emoji) and spaces only: '！', '。', ' 🙏'."""
    return all(unicodedata.category(ch)[0] in "PSZ" for ch in text)


def join_quantity(text: str) -> int | None:
    """'+1', '+ 2', '＋１', '+1！', '+1 謝謝', '+2份', '加1', '加一' → the quantity; else None.

    After '+N' anything may follow ('+1 thanks!'); after '加N' only punctuation or emoji, so
    '加一點鹽' stays chatter. '+0' and '+-1' look like joins but ask for nothing: BadQuantity.
    """
    folded = unicodedata.normalize("NFKC", text).strip()
    match = _PLUS.match(folded)
    if match is None:
        return None
    tail = match["tail"]
    head = tail[:1]
    if head.isdigit() or head in _CHINESE_DIGITS or head in ("+", "-") \
            or (head in (".", ",", "/") and tail[1:2].isdigit()) \
            or (match["sign"] == "加" and not _only_marks(tail)):
        return None
    raw = match["n"]
    if len(raw.lstrip("-")) > MAX_DIGITS:
        raise BadQuantity(raw[:MAX_DIGITS + 1])
    quantity = _CHINESE_DIGITS[raw] if raw in _CHINESE_DIGITS else int(raw)
    if quantity < 1:
        raise BadQuantity(raw)
    return quantity


def parse_deadline(text: str, now_local: datetime) -> datetime | None:
    """'12-01 20:00', '12/1 20:00', '20:00' (today), '90m', '2h', '3d' → an aware local time.

    A date without a year is the next such date from today. None if unreadable.
    """
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    relative = _RELATIVE.match(folded)
    if relative:
        minutes = int(relative["n"]) * _UNITS[relative["unit"]]
        return now_local + timedelta(minutes=minutes) if minutes > 0 else None
    match = _DEADLINE.match(folded)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        return None
    day: date | None = now_local.date()
    if match["month"]:
        day = _next_date(int(match["month"]), int(match["day"]), now_local.date())
    if day is None:
        return None
    tz: tzinfo | None = now_local.tzinfo
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def _next_date(month: int, dom: int, today: date) -> date | None:
    """The date without a year: this year's, unless that was long ago (then next year's).

    A date a few days or months back stays in the past, so it is refused as past rather
    than silently becoming next year's.
    """
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, dom)
        except ValueError:
            continue
        if candidate >= today - timedelta(days=PAST_WINDOW_DAYS):
            return candidate
    return None


PAST_WINDOW_DAYS = 31  # "11-24" on 11-25 is yesterday, not next year


def opens_for(tier_rank: int, early_rank: int | None, opens_at: datetime,
              early_minutes: int) -> datetime:
    """When a member of this tier may join: early tiers `early_minutes` before everyone."""
    if early_rank is not None and tier_rank >= early_rank:
        return opens_at - timedelta(minutes=early_minutes)
    return opens_at


@dataclass(frozen=True, slots=True)
class Split:
    allocated: int
    waitlisted: int


def split(requested: int, stock_left: int | None) -> Split:
    """Take what stock is left; the rest waits in line. None stock: unlimited."""
    if stock_left is None:
        return Split(requested, 0)
    taken = max(0, min(requested, stock_left))
    return Split(taken, requested - taken)


def within_member_limit(already: int, requested: int, limit: int | None) -> bool:
    return limit is None or already + requested <= limit


def member_cap(limit: int | None, unit_price: int) -> int | None:
    """The per-member limit, lowered where needed so a member's units never cost more
    than an amount column holds (a NT$1,000,000 item cannot be ordered 9,999 times)."""
    if unit_price <= 0:
        return limit
    money_cap = MAX_LINE_AMOUNT // unit_price
    return money_cap if limit is None else min(limit, money_cap)


def replenish_on(delivered: date, cycle_days: int | None, quantity: int,
                 lead_days: int = 2) -> date | None:
    """Delivered date + consumption cycle × quantity − lead days (None without a cycle)."""
    if not cycle_days or cycle_days <= 0 or quantity <= 0:
        return None
    return delivered + timedelta(days=max(0, cycle_days * quantity - lead_days))
