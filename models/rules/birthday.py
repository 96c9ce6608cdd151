"""Birthdays: month and day only; the coupon is claimable in the birthday month, once a year."""

from __future__ import annotations

import re
from datetime import date

_PATTERNS = (
    re.compile(r"^(?:\d{4}\s*[-/.年]\s*)?(\d{1,2})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{1,2})\s*月\s*(\d{1,2})\s*[日號号]?$"),
    re.compile(r"^(\d{2})(\d{2})$"),
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class InvalidBirthday(ValueError):
    """The text is not a real month and day."""


def parse_birthday(text: str) -> tuple[int, int]:
    """'03-15', '3/15', '3月15日', '0315' or '1990-03-15' (the year is not kept) → (3, 15).

    02-29 is a real birthday; 02-30 is not.
    """
    cleaned = text.strip()
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            month, day = int(match.group(1)), int(match.group(2))
            if 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]:
                return month, day
            raise InvalidBirthday(text)
    raise InvalidBirthday(text)


def can_claim(birthday_month: int | None, today: date) -> bool:
    """The birthday coupon can be claimed only during the birthday month."""
    return birthday_month is not None and birthday_month == today.month


def coupon_key(member_id: int, year: int) -> str:
    """One birthday coupon per member per year: this key is unique in the coupon table."""
    return f"birthday:{member_id}:{year}"
