"""Deadlines as leaders write them, read in the community's time zone.

    2026-12-20 20:00 · 12/20 20:00 · 12-20 20:00 · 12月20日 晚上8點
    明天 20:00 · 今晚8點 · 明早9點 · 後天 20:00 · 週五 20:00 · 禮拜五 · 星期五 · 下週五 20:00
    20:00 · 8點半 · 8pm · tomorrow 20:00 · 2h · 90m · 3d

A day without a time ('明天', '週五') is not a deadline: the leader is asked again. What is read
is echoed back as an absolute date and time (`echo`) for the leader to confirm; the echo reads
back as the same deadline.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from models.rules.text import CHINESE_NUMERAL, chinese_number, fold

PAST_WINDOW_DAYS = 31  # "11-24" on 11-25 is yesterday (refused as past), not next year

_RELATIVE = re.compile(r"^(?P<n>[0-9]{1,3})\s*(?P<unit>m|min|h|d|分鐘|分钟|小時|小时|天)$")
_UNITS = {"m": 1, "min": 1, "分鐘": 1, "分钟": 1, "h": 60, "小時": 60, "小时": 60,
          "d": 1440, "天": 1440}
_DAY = r"(?P<day>大後天|大后天|今天|今日|明天|明日|後天|后天|today|tonight|tomorrow|tmr|今|明)"
_WEEK = (r"(?P<which>下個|下个|下|這個|这个|這|这|本)?(?:週|周|禮拜|礼拜|星期)(?P<wd>[一二三四五六日天])"
         r"|(?P<en>mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?")
_DATE = (r"(?:(?P<year>[0-9]{4})[-/])?(?P<month>[0-9]{1,2})[-/](?P<dom>[0-9]{1,2})"
         r"|(?P<cmonth>[0-9]{1,2})月(?P<cdom>[0-9]{1,2})[日號号]?")
_PERIOD = r"(?P<period>凌晨|早上|上午|早|中午|下午|傍晚|晚上|晚|夜裡|夜里|夜)"
_TIME = (rf"(?P<h>[0-9]{{1,2}}|{CHINESE_NUMERAL})\s*"
         rf"(?::(?P<m>[0-9]{{2}})|(?P<dian>點|点|時|时)\s*(?:(?P<half>半)|(?P<cm>[0-9]{{1,2}}|"
         rf"{CHINESE_NUMERAL})\s*分?)?)?\s*(?P<ampm>am|pm)?")
_WHEN = re.compile(rf"^(?:{_DAY}|{_WEEK}|{_DATE})?\s*,?\s*{_PERIOD}?\s*{_TIME}"
                   r"\s*(?:之前|前|截止|截單|截单|結單|结单)?$")

_DAY_OFFSETS = {"今": 0, "今天": 0, "今日": 0, "today": 0, "tonight": 0, "明": 1, "明天": 1,
                "明日": 1, "tomorrow": 1, "tmr": 1, "後天": 2, "后天": 2, "大後天": 3, "大后天": 3}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
             "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_MORNING = frozenset({"凌晨", "早上", "上午", "早", "am"})
_AFTERNOON = frozenset({"下午", "傍晚", "pm"})
_NIGHT = frozenset({"晚上", "晚", "夜裡", "夜里", "夜", "tonight"})


class PastDeadline(ValueError):
    """A deadline that reads fine but is already past; `when` says when that was."""

    def __init__(self, when: datetime) -> None:
        super().__init__(echo(when))
        self.when = when


def echo(when: datetime) -> str:
    """The absolute form a deadline is confirmed in: '2026-12-20 20:00' (it reads back)."""
    return when.strftime("%Y-%m-%d %H:%M")


def future_deadline(text: str, now_local: datetime) -> datetime | None:
    """A deadline still ahead; None if unreadable; PastDeadline if it has gone."""
    when = parse_deadline(text, now_local)
    if when is not None and when <= now_local:
        raise PastDeadline(when)
    return when


def parse_deadline(text: str, now_local: datetime) -> datetime | None:
    """What the leader wrote as an aware local time (perhaps past); None if unreadable."""
    folded = fold(text).strip().lower()
    relative = _RELATIVE.match(folded)
    if relative:
        minutes = int(relative["n"]) * _UNITS[relative["unit"]]
        return now_local + timedelta(minutes=minutes) if minutes > 0 else None
    match = _WHEN.match(folded)
    if match is None:
        return None
    clock = _clock(match)
    day = _day(match, now_local.date())
    if clock is None or day is None:
        return None
    hour, minute = clock
    when = datetime.combine(day, time(hour % 24, minute), tzinfo=now_local.tzinfo)
    return when + timedelta(days=1) if hour == 24 else when


def _number(raw: str | None) -> int | None:
    if raw is None:
        return None
    return int(raw) if raw.isascii() else chinese_number(raw)


def _clock(match: re.Match[str]) -> tuple[int, int] | None:
    """(hour, minute); hour 24 is the midnight that ends the day ('今晚12點')."""
    if match["m"] is None and match["dian"] is None and match["ampm"] is None:
        return None  # '20' alone is no time
    if match["period"] and match["ampm"]:
        return None
    hour = _number(match["h"])
    minute = 30 if match["half"] else _number(match["m"] or match["cm"]) or 0
    period = match["period"] or match["ampm"] or ("tonight" if match["day"] == "tonight" else None)
    hour = None if hour is None else _hour(hour, period)
    if hour is None or minute > 59:
        return None
    return hour, minute


def _hour(hour: int, period: str | None) -> int | None:
    """The 24-hour clock hour of '8' in the morning, at noon, in the afternoon, at night."""
    if period is None:
        return hour if hour <= 23 else None
    if period in _MORNING:
        return None if hour > 12 else 0 if hour == 12 and period in ("凌晨", "am") else hour
    if period == "中午":
        return hour + 12 if 1 <= hour <= 5 else hour if 11 <= hour <= 13 else None
    if 1 <= hour <= 11 and (period in _AFTERNOON or hour >= 5):
        return hour + 12
    if period in _NIGHT and hour in (0, 12):
        return 24
    return hour if 12 <= hour <= 23 and period != "pm" or hour == 12 else None


def _day(match: re.Match[str], today: date) -> date | None:
    if match["day"]:
        return today + timedelta(days=_DAY_OFFSETS[match["day"]])
    weekday = match["wd"] or match["en"]
    if weekday:
        wanted = _WEEKDAYS[weekday]
        if match["which"] and match["which"].startswith("下"):
            return today + timedelta(days=7 - today.weekday() + wanted)
        return today + timedelta(days=(wanted - today.weekday()) % 7)
    if match["year"]:
        try:
            return date(int(match["year"]), int(match["month"]), int(match["dom"]))
        except ValueError:
            return None
    month, dom = match["month"] or match["cmonth"], match["dom"] or match["cdom"]
    return _next_date(int(month), int(dom), today) if month else today


def _next_date(month: int, dom: int, today: date) -> date | None:
    """The date without a year: this year's, unless that was long ago (then next year's).

    A date a few days back stays in the past, so it is refused as past rather than silently
    becoming next year's; an impossible date (02-30, 13-01) is None.
    """
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, dom)
        except ValueError:
            continue
        if today - timedelta(days=PAST_WINDOW_DAYS) <= candidate <= today + timedelta(days=366):
            return candidate
    return None
