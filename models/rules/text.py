"""Text as members type it: full-width digits and signs, stray spaces, bot suffixes."""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT = 2000
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC folds full-width forms (＋１, ／ｍｅ, １２３) into ASCII; whitespace is collapsed."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(ch for ch in folded if ch.isprintable() or ch in "\n\t ")
    return _SPACES.sub(" ", folded).strip()


def parse_amount(text: str) -> int | None:
    """A positive whole number as members type it ('1,200', '１２００'); None when it is not."""
    cleaned = unicodedata.normalize("NFKC", text).replace(",", "").strip()
    if not cleaned.isdigit() or not cleaned.isascii() or len(cleaned) > 12:
        return None
    return int(cleaned)
