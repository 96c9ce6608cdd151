"""Settlement months in the community's time zone, and the leader's CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from models.rules.settlement import (
    bounds,
    next_month,
    parse_month,
    previous_month,
    quarter,
    write_settlement,
)

TAIPEI = ZoneInfo("Asia/Taipei")


def test_months_as_leaders_and_members_type_them():
    assert parse_month("2026-11") == parse_month("2026/11") == parse_month("２０２６-１１") == "2026-11"
    assert parse_month("2026年3月") == "2026-03"
    for wrong in ("2026-13", "2026-00", "11", "1999-01", "next month", "2026-1-1"):
        assert parse_month(wrong) is None, wrong


def test_a_month_starts_at_local_midnight_of_the_first():
    start, end = bounds("2026-03", TAIPEI)
    assert start.astimezone(UTC) == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert next_month("2026-12") == "2027-01" and previous_month(date(2027, 1, 1)) == "2026-12"


def test_a_quarter_is_its_three_months():
    assert quarter("2026-05") == ["2026-04", "2026-05", "2026-06"]
    assert quarter("2026-12") == ["2026-10", "2026-11", "2026-12"]


def test_the_csv_has_a_row_per_distributor_then_per_order_line_with_no_cell_run_as_a_formula():
    summary = {"month": "2026-03", "distributor": "=HYPERLINK(\"x\")", "orders": 2, "sales": 150_050,
               "earned": 7_502, "confirmed": 0, "reversed": 0, "paid": 0, "balance": -500,
               "pending": 7_502}
    line = {"month": "2026-03", "distributor": "@amy", "order_id": 9, "buyer": "+bob", "level": 1,
            "net": 150_050, "pct": 5, "commission": 7_502, "state": "pending"}
    rows = list(csv.reader(io.StringIO(write_settlement([summary], [line], "zh-Hant"))))
    assert rows[0][:3] == ["類型", "月份", "分銷商"]
    assert rows[1][:3] == ["分銷商", "2026-03", "'=HYPERLINK(\"x\")"]
    assert rows[1][11:] == ["1500.50", "75.02", "0", "0", "0", "'-5", "75.02"]
    assert rows[2][:10] == ["訂單", "2026-03", "'@amy", "9", "'+bob", "1", "1500.50", "5", "75.02",
                            "待確認"]
