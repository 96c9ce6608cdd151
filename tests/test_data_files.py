"""/export members|orders|points|commissions and the bulk points import, as a leader uses them:
UTF-8 with a BOM, no cell a spreadsheet would run, bad rows named by line, a second import of
the same file changing nothing, wrong encodings, columns and sizes refused whole."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from bot.console import ConsoleChannel
from models.ledger import ledger_sum
from models.tables import PointsEntry
from tests.conftest import say
from tests.distribution_helpers import approve
from tests.groupbuy_helpers import count, fetch, member, orders_of, started

ROOT = Path(__file__).resolve().parent.parent
APPLES = "/open 有機蘋果 | 350 | 5 | 2h"


def exported(out: list[str]) -> tuple[bytes, list[list[str]]]:
    path = Path(next(line for line in out if line.endswith(".csv")).split(": ", 1)[1])
    raw = path.read_bytes()
    return raw, list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_members_export_has_a_bom_chinese_headers_and_no_runnable_cell(console):
    started(console, "leader")
    say(console, "=HYPERLINK(1)@demo: /me", "leader@demo: /grant @amy 30 welcome", "amy@demo: /me")
    say(console, "leader@demo: /grant @amy 30 welcome")
    out = say(console, "leader@demo: /export members")
    raw, rows = exported(out)
    assert raw.startswith(b"\xef\xbb\xbf") and out[-1] == "bot -> leader@demo: 已私訊給你。"
    assert out[0].startswith("bot -> leader: 會員資料（CSV")
    assert rows[0][:5] == ["會員編號", "姓名", "帳號", "等級", "積分"]
    by_name = {row[1]: row for row in rows[1:]}
    assert "'=HYPERLINK(1)" in by_name and by_name["amy"][3:5] == ["銅", "30"]


def test_points_export_escapes_negative_entries_and_keeps_reasons(console):
    say(console, "amy@demo: /me", "leader@demo: /grant @amy 50 +gift", "leader@demo: /deduct @amy 20 oops")
    _, rows = exported(say(console, "leader: /lang en", "leader: /export points"))
    assert rows[0] == ["entry_id", "member_id", "name", "at", "kind", "points", "owed", "reason",
                       "expires_on"]
    assert [(r[2], r[4], r[5], r[7]) for r in rows[1:]] == [
        ("amy", "grant", "50", "'+gift"), ("amy", "deduct", "'-20", "oops")]


def test_orders_export_covers_every_buy_and_reads_back_through_the_import(console):
    say(console, f"leader@demo: {APPLES}", "amy@demo: +2", "leader@demo: /close",
        "leader@demo: /open 梨 | 100 | 5 | 2h", "bob@demo: +1")
    _, rows = exported(say(console, "leader: /export orders"))
    assert [(r[1], r[2], r[-1]) for r in rows[1:]] == [("amy", "有機蘋果", "1"), ("bob", "梨", "2")]


def test_commissions_export_lists_the_commission_ledger(console):
    say(console, "amy: /invite")
    amy = member(console, "amy")
    approve(console, amy.id)
    say(console, f"bob: /start ref_{amy.referral_code}", f"leader@demo: {APPLES}", "bob@demo: +1")
    say(console, f"leader@demo: /delivered {orders_of(console, 'bob')[0].id}")
    _, rows = exported(say(console, "leader: /export commissions"))
    assert rows[0][:7] == ["紀錄編號", "時間", "會員編號", "姓名", "類別", "訂單編號", "層級"]
    assert [(r[3], r[4], r[6], r[7], r[8]) for r in rows[1:]] == [
        ("amy", "accrue", "1", "350", "5")]


def test_a_member_asking_for_an_export_is_refused_and_no_file_is_written(console, app):
    assert say(console, "amy: /export members") == [
        "bot -> amy: 只有團主或管理員可以使用這個指令。"]
    assert not (app.settings.media_dir / "exports").exists()


def test_an_unknown_export_word_gets_the_usage(console):
    assert say(console, "leader: /export everything")[0].startswith(
        "bot -> leader: 用法：/export members|orders|points|commissions")


def test_the_command_line_writes_the_same_csv_to_stdout(tmp_path: Path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "TUANBOT_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    script = tmp_path / "lines.txt"
    script.write_text("amy@demo: /me\nleader@demo: /grant @amy 40 hi\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "bot.cli", "console", "--script", str(script)],
                   env=env, check=True, capture_output=True, cwd=ROOT)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "export", "demo", "members",
                           "--lang", "en"], env=env, capture_output=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith(b"\xef\xbb\xbfmember_id,name,")
    assert b",amy," in done.stdout
    missing = subprocess.run([sys.executable, "-m", "bot.cli", "export", "nowhere", "points"],
                             env=env, capture_output=True, cwd=ROOT)
    assert missing.returncode == 2 and b"no community 'nowhere'" in missing.stderr
    empty = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    bare = subprocess.run([sys.executable, "-m", "bot.cli", "export", "demo", "orders"],
                          env=empty, capture_output=True, cwd=ROOT)
    assert bare.returncode == 2 and b"tuanbot db upgrade" in bare.stderr
    assert b"Traceback" not in bare.stderr


# ---- bulk points import -------------------------------------------------------------------

def upload(tmp_path: Path, content: str | bytes, name: str = "points.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8-sig") if isinstance(content, str) else content)
    return path


def entries(console: ConsoleChannel) -> int:
    return count(console, PointsEntry)


POINTS = ("會員,積分,原因,類別\n"
          "amy,100,舊系統轉入,期初\n"
          "@bob,50,活動\n"
          "nobody,10,?\n"
          "amy,abc,x\n"
          "amy,-500,too much\n"
          "amy,20,\n")


def test_good_rows_land_bad_rows_are_named_and_the_same_file_again_changes_nothing(
        console, tmp_path):
    say(console, "amy@demo: /me", "bob@demo: /me")
    path = upload(tmp_path, POINTS)
    out = say(console, f"leader: /import {path}")
    assert out == ["bot -> leader: 已匯入 3 筆積分（共 170 點）。\n未匯入：\n"
                   "第 4 行：找不到這位會員（會員「nobody」）\n"
                   "第 5 行：積分須為非零整數，最多 1,000,000（積分「abc」）\n"
                   "第 6 行：積分不足，不能扣成負數（積分「-500」）"]
    amy, bob = member(console, "amy"), member(console, "bob")
    assert (amy.points_balance, bob.points_balance) == (120, 50)
    with console.deps.sessions() as session:
        assert amy.points_balance == ledger_sum(session, amy.id)
    kinds = fetch(console, select(PointsEntry.kind).where(PointsEntry.member_id == amy.id))
    assert sorted(kinds) == ["grant", "opening"]
    before = entries(console)
    again = say(console, f"leader: /import {path}")
    assert again[0].startswith("bot -> leader: 已匯入 0 筆積分（共 0 點），3 筆先前已匯入。")
    assert entries(console) == before and member(console, "amy").points_balance == 120


def test_a_second_opening_balance_for_a_member_is_refused(console, tmp_path):
    say(console, "amy@demo: /me")
    first = upload(tmp_path, "member,points,type\namy,5,opening\n", "a.csv")
    second = upload(tmp_path, "member,points,type\namy,7,opening balance\n", "b.csv")
    say(console, f"leader: /import {first}")
    out = say(console, f"leader: /import {second}")
    assert "第 2 行：這位會員已有期初積分" in out[0] and member(console, "amy").points_balance == 5


def test_big5_bytes_are_refused_whole_and_nothing_changes(console, tmp_path):
    say(console, "amy@demo: /me")
    path = upload(tmp_path, "會員,積分,原因\namy,100,轉入\n".encode("cp950"))
    before = entries(console)
    assert say(console, f"leader: /import {path}")[0].startswith(
        "bot -> leader: 檔案不是 UTF-8 編碼")
    assert entries(console) == before


def test_gbk_bytes_are_refused_whole_in_the_leaders_language(console, tmp_path):
    say(console, "amy@demo: /me", "leader: /lang zh-Hans")
    path = upload(tmp_path, "会员,积分\namy,100\n".encode("gbk"))
    assert say(console, f"leader: /import {path}")[0].startswith("bot -> leader: 文件不是 UTF-8 编码")
    assert entries(console) == 0


def test_wrong_columns_are_named_and_nothing_changes(console, tmp_path):
    say(console, "amy@demo: /me")
    path = upload(tmp_path, "積分,原因\n100,x\n")
    assert say(console, f"leader: /import {path}") == [
        "bot -> leader: CSV 缺少欄位：會員（member）。未匯入任何資料。"]
    assert entries(console) == 0


def test_a_50_mb_file_is_refused_without_being_read(console, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"member,points\n")
        handle.truncate(50 * 1024 * 1024)
    assert say(console, f"leader: /import {path}") == [
        "bot -> leader: 檔案太大：最多 5 MB。未匯入任何資料。"]
    assert entries(console) == 0


def test_a_name_two_members_share_is_refused_but_a_handle_or_code_works(console, tmp_path):
    say(console, "amy@demo: /me", "amy2@demo: /me")
    with console.deps.sessions() as session:  # two members called "Amy Lin"
        for handle in ("amy", "amy2"):
            found = session.get(type(member(console, handle)), member(console, handle).id)
            found.display_name = "Amy Lin"
        session.commit()
    code = member(console, "amy2").referral_code
    path = upload(tmp_path, f"member,points\nAmy Lin,5\n@amy,6\n{code},7\n")
    out = say(console, "leader: /lang en", f"leader: /import {path}")
    assert out[-1].startswith("bot -> leader: Imported 2 points rows (13 points).")
    assert "line 2: several members have this name" in out[-1]
    assert (member(console, "amy").points_balance, member(console, "amy2").points_balance) == (6, 7)


def test_a_member_cannot_import_points(console, tmp_path):
    path = upload(tmp_path, "member,points\namy,1000\n")
    assert say(console, "amy@demo: /me", f"amy: /import {path}")[-1] == (
        "bot -> amy: 只有團主或管理員可以使用這個指令。")
    assert member(console, "amy").points_balance == 0


def test_a_50_mb_file_sent_on_telegram_is_answered_without_being_fetched(console, tmp_path):
    from telegram import Update

    from bot.telegram import document_incoming
    from tests.fakes.telegram_api import text_update

    data = text_update(1, "", 42)
    message = data["message"]
    assert isinstance(message, dict)
    del message["text"]
    message["document"] = {"file_id": "F1", "file_unique_id": "U1", "file_name": "points.csv",
                           "file_size": 50 * 1024 * 1024}
    msg = document_incoming(Update.de_json(data, None), tmp_path)
    assert msg is not None and msg.payload is None  # nothing to fetch
    assert msg.text == "/import --too-large" and not list(tmp_path.iterdir())
    assert say(console, "leader: /import --too-large") == [
        "bot -> leader: 檔案太大：最多 5 MB。未匯入任何資料。"]
