"""Settlement months: a month as 'YYYY-MM' in the community's time zone, its bounds, the one
before, its quarter; and the leader's CSV (one row per distributor, one per order line)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, tzinfo

from models.rules.orders_export import escape
from models.rules.text import fold

_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")


def parse_month(text: str) -> str | None:
    """'2026-11', '2026/11', '２０２６-１１', '2026年11月' → '2026-11'; None otherwise."""
    found = _MONTH.match(fold(text).strip())
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        return None
    return f"{int(found.group(1)):04d}-{int(found.group(2)):02d}"


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def previous_month(today: date) -> str:
    year, number = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{number:02d}"


def bounds(month: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the month as aware datetimes: local midnight of the 1st and of the next 1st."""
    start = datetime.combine(first_day(month), time(0), tzinfo=tz)
    end = datetime.combine(first_day(next_month(month)), time(0), tzinfo=tz)
    return start, end


def quarter(month: str) -> list[str]:
    """The three months of the quarter `month` is in."""
    year, number = int(month[:4]), int(month[5:7])
    first = (number - 1) // 3 * 3 + 1
    return [f"{year:04d}-{m:02d}" for m in range(first, first + 3)]


CSV_COLUMNS = ("row", "month", "distributor", "order_id", "buyer", "level", "net", "pct",
               "commission", "state", "orders", "sales", "earned", "confirmed", "reversed",
               "paid", "balance", "pending")
CSV_HEADERS: dict[str, tuple[str, ...]] = {
    "en": CSV_COLUMNS,
    "zh-Hant": ("類型", "月份", "分銷商", "訂單編號", "購買者", "層級", "訂單金額", "佣金比例",
                "佣金", "狀態", "訂單數", "銷售額", "本月佣金", "已確認", "已沖回", "已支付",
                "未支付餘額", "待確認"),
    "zh-Hans": ("类型", "月份", "分销商", "订单编号", "购买者", "层级", "订单金额", "佣金比例",
                "佣金", "状态", "订单数", "销售额", "本月佣金", "已确认", "已冲回", "已支付",
                "未支付余额", "待确认"),
}
CSV_WORDS: dict[str, dict[str, str]] = {
    "en": {"distributor": "distributor", "order": "order", "pending": "pending",
           "confirmed": "confirmed", "reversed": "reversed"},
    "zh-Hant": {"distributor": "分銷商", "order": "訂單", "pending": "待確認",
                "confirmed": "已確認", "reversed": "已沖回"},
    "zh-Hans": {"distributor": "分销商", "order": "订单", "pending": "待确认",
                "confirmed": "已确认", "reversed": "已冲回"},
}


def major(minor: int) -> str:
    """Minor units as a plain decimal for a spreadsheet: 12345 → '123.45', -500 → '-5'."""
    whole, cents = divmod(abs(minor), 100)
    text = f"{whole}.{cents:02d}" if cents else str(whole)
    return "-" + text if minor < 0 else text


def write_settlement(summaries: Sequence[Mapping[str, object]],
                     lines: Sequence[Mapping[str, object]], locale: str) -> str:
    """The CSV text (the caller writes it UTF-8 with a BOM): a row per distributor, then a row
    per order line; money in major units; every cell escaped against formulas (a negative
    balance is shown as text, '-5', so it stays exactly what it is)."""
    words = CSV_WORDS.get(locale, CSV_WORDS["en"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADERS.get(locale, CSV_COLUMNS))
    money = {"net", "commission", "sales", "earned", "confirmed", "reversed", "paid", "balance",
             "pending"}
    for kind, rows in (("distributor", summaries), ("order", lines)):
        for row in rows:
            cells = {**row, "row": words[kind]}
            if "state" in cells:
                cells["state"] = words.get(str(cells["state"]), str(cells["state"]))
            text = [major(int(str(cells[c]))) if c in money and c in cells else str(cells.get(c, ""))
                    for c in CSV_COLUMNS]
            writer.writerow([escape(cell) for cell in text])
    return out.getvalue()
