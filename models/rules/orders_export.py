"""Our own order export: what a leader opens in a spreadsheet and what our import reads back.

Headers and statuses in the leader's language (each one a header or status alias the import
knows, in models/rules/orders_csv.py); a cell a spreadsheet would run as a formula (OWASP CSV
injection: a leading = + - @ tab or CR) gets a leading "'", and so does one that already starts
with "'", so `unescape` gives back exactly what was written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

_RISKY = ("=", "+", "-", "@", "\t", "\r", "'")
EXPORT_COLUMNS = ("order_id", "member", "product", "quantity", "unit_price", "list_price",
                  "tier_discount", "coupon_discount", "points_used", "net", "status", "paid",
                  "paid_at", "picked_up", "picked_up_at", "ordered_at")
# Headers in the leader's language; the ones import reads are among its header aliases.
EXPORT_HEADERS: dict[str, tuple[str, ...]] = {
    "en": EXPORT_COLUMNS,
    "zh-Hant": ("訂單編號", "會員", "商品名稱", "數量", "單價", "原價", "等級折扣", "優惠券折抵",
                "使用積分", "應付金額", "狀態", "已付款", "付款時間", "已取貨", "取貨時間", "下單時間"),
    "zh-Hans": ("订单编号", "会员", "商品名称", "数量", "单价", "原价", "等级折扣", "优惠券抵扣",
                "使用积分", "应付金额", "状态", "已付款", "付款时间", "已取货", "取货时间", "下单时间"),
}
# Line statuses in the leader's language; each reads back through the status aliases.
EXPORT_STATUSES: dict[str, dict[str, str]] = {
    "en": {"allocated": "allocated", "waitlisted": "waitlisted", "paid": "paid",
           "delivered": "delivered", "cancelled": "cancelled", "refunded": "refunded"},
    "zh-Hant": {"allocated": "已保留", "waitlisted": "候補中", "paid": "已付款",
                "delivered": "已到貨", "cancelled": "已取消", "refunded": "已退款"},
    "zh-Hans": {"allocated": "已保留", "waitlisted": "候补中", "paid": "已付款",
                "delivered": "已到货", "cancelled": "已取消", "refunded": "已退款"},
}
YES_NO = {"en": ("yes", ""), "zh-Hant": ("是", ""), "zh-Hans": ("是", "")}


def escape(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + cell if cell.startswith(_RISKY) else cell


def unescape(cell: str) -> str:
    """The value `escape` was given."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_RISKY) else cell


def write_table(headers: Sequence[str], columns: Sequence[str],
                rows: Iterable[Mapping[str, str]]) -> str:
    """Any export as CSV text (the caller writes it UTF-8 with a BOM): the headers, then each
    row's cells in `columns` order, every cell (headers too) escaped."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([escape(header) for header in headers])
    for row in rows:
        writer.writerow([escape(row.get(column, "")) for column in columns])
    return out.getvalue()


def write_orders(rows: list[dict[str, str]], locale: str) -> str:
    """The orders export: headers in the leader's language; each row maps EXPORT_COLUMNS."""
    return write_table(EXPORT_HEADERS.get(locale, EXPORT_COLUMNS), EXPORT_COLUMNS, rows)
