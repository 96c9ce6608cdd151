"""Text as members type it: full-width digits and signs, stray spaces, bot suffixes."""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT = 2000
DB_INT_MAX = 2**31 - 1  # the largest id, count or amount an integer column holds
_SPACES = re.compile(r"\s+")
_AMOUNT = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)$", re.ASCII)
# Characters NFKC would turn into ASCII digits although nobody typed a digit: superscripts and
# subscripts (²), fractions (½), circled and parenthesised numbers (①, ⑴, ⒈), enclosed CJK
# (㉑, ㋀, ㍘, ㏠), squared units (㎟), mathematical digits (𝟏), digit commas (🄂), segmented digits.
# Only ASCII and full-width digits are digits (tests/rules/test_text.py checks every code point).
_LOOKALIKES = re.compile(
    "([\u00b2\u00b3\u00b9\u00bc-\u00be\u2070\u2074-\u2079\u2080-\u2089\u2150-\u215f"
    "\u2189\u2460-\u249b\u24ea\u3251-\u325f\u32b1-\u32cb\u3358-\u3370\u3378\u3379"
    "\u339f-\u33a6\u33a8\u33af\u33e0-\u33fe\U0001d7ce-\U0001d7ff\U0001f100-\U0001f10a"
    "\U0001fbf0-\U0001fbf9]+)")


def fold(text: str) -> str:
    """NFKC (＋１ → +1, ／ｍｅ → /me), except digit look-alikes, which stay as typed (+² is no +2)."""
    if text.isascii():
        return text
    if _LOOKALIKES.search(text) is None:
        return unicodedata.normalize("NFKC", text)
    parts = _LOOKALIKES.split(text)  # odd items are the look-alikes themselves
    return "".join(part if i % 2 else unicodedata.normalize("NFKC", part)
                   for i, part in enumerate(parts))


def normalize(text: str) -> str:
    """Full-width forms (＋１, ／ｍｅ, １２３) folded into ASCII (see `fold`); whitespace collapsed."""
    folded = fold(text)
    folded = "".join(ch if ch.isprintable() else " " if ch.isspace() else "" for ch in folded)
    return _SPACES.sub(" ", folded).strip()


def whole_numbers(words: list[str]) -> list[int] | None:
    """'5 6 7' as typed (ASCII digits only) → [5, 6, 7]; None when a word is not a number.

    A number no integer column can hold becomes DB_INT_MAX + 1: nothing has that id.
    """
    if not all(w.isdigit() and w.isascii() for w in words):
        return None
    return [int(w) if len(w) <= 10 and int(w) <= DB_INT_MAX else DB_INT_MAX + 1 for w in words]


def parse_amount(text: str) -> int | None:
    """A positive whole number as members type it ('1,200', '１２００'); None when it is not."""
    cleaned = fold(text).strip()
    if not _AMOUNT.match(cleaned):
        return None
    digits = cleaned.replace(",", "")
    if len(digits) > 12 or int(digits) == 0:
        return None
    return int(digits)


# Chinese numerals from 1 to 99 as people write counts: 三, 兩/两, 十, 十二, 二十, 三十五.
# Not 廿 (dates, not counts), not 零/〇, not 一十 or 兩十, nothing from 百 up.
CHINESE_NUMERAL = "(?:[二三四五六七八九]?十[一二三四五六七八九]?|[一二兩两三四五六七八九])"
_CHINESE_NUMBER = re.compile(f"^{CHINESE_NUMERAL}$")
_CHINESE_DIGITS = {"一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                   "七": 7, "八": 8, "九": 9}


def chinese_number(text: str) -> int | None:
    """'三' → 3, '十二' → 12, '二十' → 20, '九十九' → 99; None for anything else."""
    if _CHINESE_NUMBER.match(text) is None:
        return None
    tens, ten, ones = text.rpartition("十")
    if not ten:
        return _CHINESE_DIGITS[ones]
    return _CHINESE_DIGITS.get(tens, 1) * 10 + _CHINESE_DIGITS.get(ones, 0)
