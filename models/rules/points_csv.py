"""Points import: a leader's CSV of points grants and opening balances, read into checked rows.

Columns (English or Chinese headers): `member` (a display name, `@handle` or referral code),
`points` (a whole number; negative takes points away), optional `reason` and `type` (`grant`,
the default, or `opening` for a balance carried over from another system). UTF-8 only (with or
without a BOM): names read in the wrong encoding would credit the wrong people, so Big5 or
GBK bytes are refused as a whole. Bad rows are reported by physical line number; good rows
are returned.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

from models.rules.orders_csv import MAX_VALUE, MissingColumns, RowError, table_rows
from models.rules.orders_export import unescape

REQUIRED = ("member", "points")
COLUMNS = (*REQUIRED, "reason", "type")
TYPES = ("grant", "opening")
MAX_POINTS = 1_000_000
MAX_REASON = 200

_ALIASES: dict[str, tuple[str, ...]] = {
    "member": ("member", "name", "handle", "code", "會員", "会员", "姓名", "暱稱", "昵称",
               "帳號", "账号", "推薦碼", "推荐码"),
    "points": ("points", "point", "積分", "积分", "點數", "点数", "期初積分", "期初积分"),
    "reason": ("reason", "note", "原因", "備註", "备注", "說明", "说明"),
    "type": ("type", "kind", "類別", "类别", "類型", "类型"),
}
_TYPE_WORDS: dict[str, str] = {
    "": "grant", "grant": "grant", "加點": "grant", "加点": "grant", "贈送": "grant",
    "赠送": "grant", "opening": "opening", "opening balance": "opening", "期初": "opening",
    "期初餘額": "opening", "期初余额": "opening",
}
_NUMBER = re.compile(r"[+-]?[0-9]{1,9}")
_IGNORED_IN_KEYS = re.compile(r"[\s_\-\ufeff]+")


class NotUtf8(ValueError):
    """The file is not UTF-8 text (Big5, GBK, a spreadsheet's binary format, …)."""


def _key(text: str) -> str:
    return _IGNORED_IN_KEYS.sub("", unicodedata.normalize("NFKC", text).casefold())


_HEADER_KEYS: dict[str, str] = {_key(a): column for column, aliases in _ALIASES.items()
                                for a in aliases}


@dataclass(frozen=True, slots=True)
class PointsRow:
    line: int  # 1-based physical line (the header is line 1)
    member: str  # as written: '@handle', a referral code or a display name
    points: int  # nonzero, at most MAX_POINTS either way
    reason: str
    kind: str  # one of TYPES


def text_of(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped); raises NotUtf8 for anything else."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as wrong:
        raise NotUtf8(str(wrong)) from None


def is_points_header(line: str) -> bool:
    """Does this header name a points column (and so is a points file, not orders)?"""
    cells = next(csv.reader([line]), [])
    return any(_HEADER_KEYS.get(_key(cell)) == "points" for cell in cells)


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        column = _HEADER_KEYS.get(_key(cell))
        if column is not None and column not in found:
            found[column] = index
    missing = [column for column in REQUIRED if column not in found]
    if missing:
        raise MissingColumns(missing)
    return found


def _points(text: str) -> int | None:
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    if not _NUMBER.fullmatch(cleaned):
        return None
    value = int(cleaned)
    return value if value != 0 and abs(value) <= MAX_POINTS else None


def check_row(line: int, cells: list[str], columns: dict[str, int]) -> PointsRow | list[RowError]:
    """One data row: the row, or every problem found in it."""
    values = {name: unescape(cells[index].strip()) if index < len(cells) else ""
              for name, index in columns.items()}
    problems: list[RowError] = []
    member, raw_points = values.get("member", ""), values.get("points", "")
    if not member:
        problems.append(RowError(line, "missing_value", "member", ""))
    points = _points(raw_points)
    if not raw_points:
        problems.append(RowError(line, "missing_value", "points", ""))
    elif points is None:
        problems.append(RowError(line, "bad_points", "points", raw_points[:MAX_VALUE]))
    kind = _TYPE_WORDS.get(" ".join(unicodedata.normalize("NFKC", values.get("type", ""))
                                    .casefold().split()))
    if kind is None:
        problems.append(RowError(line, "bad_type", "type", values.get("type", "")[:MAX_VALUE]))
    reason = values.get("reason", "")
    if len(reason) > MAX_REASON:
        problems.append(RowError(line, "too_long", "reason", reason[:MAX_VALUE]))
    if problems or points is None or kind is None:
        return problems
    return PointsRow(line, member[:64], points, reason, kind)


def parse_points(text: str, max_rows: int = 5000) -> tuple[list[PointsRow], list[RowError]]:
    """Good rows and row errors; raises MissingColumns when the header lacks member or points.
    Past `max_rows` data rows, reading stops with a `too_many_rows` error."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    rows: list[PointsRow] = []
    errors: list[RowError] = []
    columns: dict[str, int] | None = None
    for line, cells in table_rows(reader, max_rows, errors):
        if columns is None:
            columns = _columns(cells)
            continue
        checked = check_row(line, cells, columns)
        if isinstance(checked, PointsRow):
            rows.append(checked)
        else:
            errors.extend(checked)
    if columns is None:
        raise MissingColumns(list(REQUIRED))
    return rows, errors
