"""/export as a leader uses it: their language, paid and picked-up flags with dates, no cell a
spreadsheet would run, UTF-8 with a BOM, and our own /import reads it back."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.console import ConsoleChannel
from models.tables import Order
from tests.conftest import Clock, say
from tests.groupbuy_helpers import count, orders_of, started

APPLES = "/open 有機蘋果 | 350 | 5 | 2h"


def exported(console: ConsoleChannel) -> tuple[Path, list[dict[str, str]]]:
    out = say(console, "leader@demo: /export")
    path = Path(out[1].split(": ", 1)[1])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return path, list(csv.DictReader(handle))


def test_an_english_leader_gets_english_headers_statuses_and_paid_dates(console, clock: Clock):
    say(console, "leader: /lang en", f"leader@demo: {APPLES}", "amy@demo: +2", "bob@demo: +1")
    clock.advance(minutes=30)
    say(console, f"leader@demo: /paid {orders_of(console, 'amy')[0].id}")
    _, rows = exported(console)
    assert [(r["member"], r["status"], r["paid"], r["paid_at"], r["picked_up"], r["picked_up_at"])
            for r in rows] == [("amy", "paid", "yes", "2026-03-10T12:30:00+08:00", "", ""),
                               ("bob", "allocated", "", "", "", "")]


def test_a_chinese_leader_gets_statuses_and_flags_in_chinese(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1", "bob@demo: +1")
    say(console, f"leader@demo: /delivered {orders_of(console, 'amy')[0].id}")
    say(console, f"leader@demo: /paid {orders_of(console, 'bob')[0].id}")
    _, rows = exported(console)
    assert [(r["會員"], r["狀態"], r["已付款"]) for r in rows] == [
        ("amy", "已到貨", ""), ("bob", "已付款", "是")]


def test_a_name_a_spreadsheet_would_run_is_written_as_text(console):
    say(console, f"leader@demo: {APPLES}", "=cmd|calc@demo: +1", "-2+3@demo: +1")
    path, rows = exported(console)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [r["會員"] for r in rows] == ["'=cmd|calc", "'-2+3"]


def test_our_import_reads_our_export_back_with_the_original_names(console, tmp_path: Path):
    say(console, f"leader@demo: {APPLES}", "=cmd@demo: +2", "amy@demo: +1", "leader@demo: /close")
    say(console, f"leader@demo: /paid {orders_of(console, 'amy')[0].id}")
    path, _ = exported(console)
    before = count(console, Order)
    out = say(console, f"leader@demo: /import {path}")
    assert out == ["bot -> leader@demo: 已匯入 2 筆訂單。"]
    assert count(console, Order) == before + 2
    assert [(o.quantity, o.status) for o in orders_of(console, "=cmd")][-1] == (2, "allocated")


def test_a_line_the_member_picked_up_is_exported_with_its_pickup_time(console, clock: Clock):
    started(console, "amy", "leader")
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1", "leader@demo: /close",
        "leader@demo: /arrived #1 大樓管理室")
    clock.advance(minutes=30)
    say(console, "leader@demo: /picked @amy")
    _, rows = exported(console)
    assert [(r["會員"], r["已取貨"], r["取貨時間"]) for r in rows] == [
        ("amy", "是", "2026-03-10T12:30:00+08:00")]
