"""Text as members type it: full-width digits and signs, stray spaces, bot suffixes."""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT = 2000
DB_INT_MAX = 2**31 - 1  # the largest id, count or amount an integer column holds
_SPACES = re.compile(r"\s+")
_AMOUNT = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)$", re.ASCII)


def normalize(text: str) -> str:
    """NFKC folds full-width forms (＋１, ／ｍｅ, １２３) into ASCII; whitespace is collapsed."""
    folded = unicodedata.normalize("NFKC", text)
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
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not _AMOUNT.match(cleaned):
        return None
    digits = cleaned.replace(",", "")
    if len(digits) > 12 or int(digits) == 0:
        return None
    return int(digits)
