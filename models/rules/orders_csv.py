"""Order import: another group-buying tool's CSV export, read into checked rows.

Exports come from LINE 接龍, Google Sheets, 快團團 and the like, as UTF-8 (with or without
BOM), Big5 (cp950) or GBK (gb18030). Money is read into integer minor units with integer
arithmetic only, never through a float. Bad rows are reported by physical line number and
left out; good rows are returned.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from models.rules.orders_export import unescape

REQUIRED = ("external_id", "member", "product", "quantity", "unit_price")
COLUMNS = (*REQUIRED, "status", "ordered_at")
STATUSES = ("pending", "paid", "delivered", "cancelled")
MAX_VALUE = 40
MAX_LINE_AMOUNT = 2**31 - 1  # quantity × unit price (minor units) must fit an integer column

# Within a column, earlier aliases are more specific and win when two headers match.
_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("order_id", "order id", "訂單編號", "订单编号", "訂單號", "订单号",
                    "編號", "编号"),
    "member": ("member", "name", "buyer", "會員", "会员", "姓名", "暱稱", "昵称", "買家", "买家"),
    "product": ("product", "商品名稱", "商品名称", "品名", "商品", "item"),
    "quantity": ("quantity", "qty", "數量", "数量"),
    "unit_price": ("unit_price", "price", "單價", "单价", "價格", "价格"),
    "status": ("status", "狀態", "状态"),
    "ordered_at": ("ordered_at", "下單時間", "下单时间", "date", "time", "日期"),
}
_STATUS_ALIASES: dict[str, tuple[str, ...]] = {
    "pending": ("", "pending", "allocated", "未付款", "待付款", "新訂單", "新订单", "已保留"),
    "paid": ("paid", "已付款", "已付"),
    "delivered": ("delivered", "已到貨", "已到货", "已取貨", "已取货", "已出貨", "已出货",
                  "已發貨", "已发货", "完成"),
    "cancelled": ("cancelled", "canceled", "refunded", "已取消", "取消", "已退款",
                  # a waiting line never held stock nor was paid: not bought
                  "waitlisted", "候補中", "候补中"),
}
_MONEY = re.compile(
    r"(?:NT\$|NTD|TWD|US\$|HK\$|RMB|CNY|\$|¥)?\s*"
    r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?\s*(?:元|圓|圆|塊|块)?",
    re.IGNORECASE,
)
_QUANTITY = re.compile(r"[0-9]{1,9}")
_IGNORED_IN_KEYS = re.compile(r"[\s_\-\ufeff]+")
_FREQUENT_LEADS = {"cp950": range(0xA4, 0xC7), "gb18030": range(0xB0, 0xD8)}  # first byte


def _key(text: str) -> str:
    """Header/status key: NFKC (full-width → half-width), case-folded, no spaces/_/-."""
    return _IGNORED_IN_KEYS.sub("", unicodedata.normalize("NFKC", text).casefold())


_HEADER_KEYS: dict[str, tuple[str, int]] = {
    _key(alias): (column, rank)
    for column, aliases in _ALIASES.items()
    for rank, alias in enumerate(aliases)
}
_STATUS_KEYS: dict[str, str] = {
    _key(alias): status for status, aliases in _STATUS_ALIASES.items() for alias in aliases
}


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int  # 1-based physical line where the row starts (the header is line 1)
    external_id: str  # the other tool's order id, NFKC-folded and stripped
    member: str  # the buyer as written: a display name or '@handle'
    product: str
    quantity: int  # 1..9999
    unit_price: int  # minor units, >= 0
    status: str  # one of STATUSES
    ordered_at: str  # raw text, '' when absent


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str  # missing_value, bad_quantity, bad_price, bad_status, duplicate_id,
    #              too_many_columns, too_many_rows, bad_csv
    column: str  # canonical column name, '' when the error is about the whole row
    value: str  # the offending raw value, at most MAX_VALUE characters


class MissingColumns(ValueError):
    """The header lacks required columns; `.missing` names them (canonical names)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("missing columns: " + ", ".join(missing))
        self.missing: list[str] = list(missing)


def _common(ch: str, encoding: str) -> bool:
    """ASCII, CJK punctuation, full-width forms, or a hanzi of the encoding's frequent level."""
    if ch < "\x80" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef":
        return True
    lead = ch.encode(encoding, errors="ignore")[:1] if "\u4e00" <= ch <= "\u9fff" else b""
    return bool(lead) and lead[0] in _FREQUENT_LEADS[encoding]


def _plausibility(text: str, encoding: str) -> tuple[int, float]:
    """Recognised header names first, then the share of common characters.

    Big5 read as GBK (and the reverse) mostly yields valid but rare hanzi, kana or private-use
    characters; the right reading stays within Big5 level 1 (A440–C67E) or GB2312 level 1
    (B0A1–D7F9), the frequently used characters.
    """
    sample = text[:65536]
    first = next((ln for ln in sample.splitlines() if ln.strip()), "")
    hits = sum(1 for cell in re.split(r"[,;\t]", first) if _key(cell.strip('"')) in _HEADER_KEYS)
    common = sum(1 for ch in sample if _common(ch, encoding))
    return hits, common / max(len(sample), 1)


def decode(raw: bytes) -> str:
    """Bytes of an export as text: BOM → UTF-8, valid UTF-8, else Big5 or GBK. Never raises."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw.decode("utf-8-sig", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        readings = [(raw.decode(enc, errors="replace"), enc) for enc in _FREQUENT_LEADS]
        return max(readings, key=lambda reading: _plausibility(*reading))[0]  # a tie: cp950
    except (LookupError, ValueError):
        return raw.decode("utf-8", errors="replace")


def parse_money(text: str, exponent: int = 2) -> int | None:
    """'NT$1,200.50', '１２００', '¥88.5', '1200元' → minor units; None when not a valid amount."""
    if exponent < 0:
        raise ValueError("exponent must be >= 0")
    cleaned = unicodedata.normalize("NFKC", text).strip()
    match = _MONEY.fullmatch(cleaned) if len(cleaned) <= MAX_VALUE else None
    if match is None:
        return None
    whole, fraction = match.group(1).replace(",", ""), match.group(2) or ""
    if len(fraction) > exponent:
        return None
    scale: int = 10**exponent
    return int(whole) * scale + int(fraction.ljust(exponent, "0") or "0")


def _quantity(text: str) -> int | None:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not _QUANTITY.fullmatch(cleaned):
        return None
    quantity = int(cleaned)
    return quantity if 1 <= quantity <= 9999 else None


def _columns(header: list[str]) -> dict[str, int]:
    """Canonical column → index; the most specific alias wins, then the leftmost column."""
    best: dict[str, tuple[int, int]] = {}
    for index, cell in enumerate(header):
        hit = _HEADER_KEYS.get(_key(cell))
        if hit is not None and (hit[0] not in best or hit[1] < best[hit[0]][0]):
            best[hit[0]] = (hit[1], index)
    missing = [column for column in REQUIRED if column not in best]
    if missing:
        raise MissingColumns(missing)
    return {column: index for column, (_, index) in best.items()}


def _check(
    line: int, cells: list[str], columns: dict[str, int], width: int, exponent: int,
    seen: set[str],
) -> ImportRow | list[RowError]:
    """One data row: the row, or every problem found in it."""
    values = {
        name: unescape(cells[columns[name]].strip())
        if name in columns and columns[name] < len(cells) else ""
        for name in COLUMNS
    }
    problems: list[RowError] = []

    def fail(reason: str, column: str, value: str) -> None:
        problems.append(RowError(line, reason, column, value[:MAX_VALUE]))

    external_id = unicodedata.normalize("NFKC", values["external_id"]).strip()
    duplicate = external_id in seen
    if external_id:
        seen.add(external_id)
    extra = [cell for cell in cells[width:] if cell.strip()]
    if extra:  # cells are shifted (an unquoted "1,200"?): further checks would only mislead
        return [RowError(line, "too_many_columns", "", extra[0][:MAX_VALUE])]
    for name in REQUIRED:
        if not values[name]:
            fail("missing_value", name, "")
    if duplicate:
        fail("duplicate_id", "external_id", external_id)
    quantity = _quantity(values["quantity"])
    if values["quantity"] and quantity is None:
        fail("bad_quantity", "quantity", values["quantity"])
    price = parse_money(values["unit_price"], exponent)
    if values["unit_price"] and (price is None or price > MAX_LINE_AMOUNT):
        fail("bad_price", "unit_price", values["unit_price"])
    elif quantity is not None and price is not None and quantity * price > MAX_LINE_AMOUNT:
        fail("bad_quantity", "quantity", values["quantity"])
    status = _STATUS_KEYS.get(_key(values["status"]))
    if status is None:
        fail("bad_status", "status", values["status"])
    if values["ordered_at"] and order_date(values["ordered_at"]) is None:
        fail("bad_date", "ordered_at", values["ordered_at"])
    if problems or quantity is None or price is None or status is None:
        return problems
    return ImportRow(line, external_id, values["member"], values["product"], quantity, price,
                     status, values["ordered_at"])


_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")


def order_date(text: str) -> date | None:
    """'2026-11-05', '2026/11/05 14:30', '2026-11-05T14:30:00+08:00' → the date; else None."""
    match = _DATE.match(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def table_rows(reader: Iterator[list[str]], max_rows: int,
               errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """A CSV's non-blank rows as (line it starts on, cells), the header first. Past
    `max_rows` data rows, reading stops with a `too_many_rows` error; a broken CSV stops it
    with `bad_csv` (both into `errors`). `reader`: a csv.reader (its line_num is read)."""
    count = last = 0
    header = True
    try:
        for cells in reader:
            line, last = last + 1, reader.line_num  # type: ignore[attr-defined]
            if not any(cell.strip() for cell in cells):
                continue
            if not header:
                count += 1
                if count > max_rows:
                    errors.append(RowError(line, "too_many_rows", "", ""))
                    return
            header = False
            yield line, cells
    except csv.Error as exc:
        errors.append(RowError(last + 1, "bad_csv", "", str(exc)[:MAX_VALUE]))


def parse_orders(
    text: str, exponent: int = 2, max_rows: int = 5000
) -> tuple[list[ImportRow], list[RowError]]:
    """Good rows and row errors of an export; raises MissingColumns when the header lacks some.

    The delimiter (comma, semicolon or tab) is the one used most on the header line. Blank rows
    are skipped; the later of two rows with the same order id is a `duplicate_id` error. Past
    `max_rows` data rows, reading stops with a `too_many_rows` error on the first row beyond.
    """
    text = text.removeprefix("\ufeff")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = max(",;\t", key=first.count)  # a tie (or none) keeps the comma
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    columns: dict[str, int] | None = None
    width = 0
    seen: set[str] = set()
    for line, cells in table_rows(reader, max_rows, errors):
        if columns is None:
            columns, width = _columns(cells), len(cells)
            continue
        checked = _check(line, cells, columns, width, exponent, seen)
        if isinstance(checked, ImportRow):
            rows.append(checked)
        else:
            errors.extend(checked)
    if columns is None:
        raise MissingColumns(list(REQUIRED))
    return rows, errors

