"""Audit: every admin action and every refused attempt is recorded; `/audit [N]` shows the
owner the newest first, with who, what, when (in the community's time zone) and, for a
setting, its old and new value."""

from __future__ import annotations

from sqlalchemy import select

from models.tables import AuditLog
from tests.conftest import Clock, say
from tests.groupbuy_helpers import fetch, member


def test_admin_actions_without_their_own_audit_are_recorded_by_the_dispatcher(console, app):
    say(console, "leader@demo: /open 梨 | 100 | 5 | 明天 20:00", "amy@demo: +1",
        "leader@demo: /close", "leader@demo: /paid all", "leader@demo: /unpaid")
    rows = fetch(app, select(AuditLog.action, AuditLog.allowed, AuditLog.detail).order_by(AuditLog.id))
    assert [(a, ok) for a, ok, _ in rows] == [("open", True), ("close", True), ("paid", True),
                                             ("unpaid", False)]  # nobody left unpaid: refused
    assert rows[0][2] == "/open 梨 | 100 | 5 | 明天 20:00"


def test_a_leader_command_refused_for_any_reason_is_recorded_as_refused(console, app):
    say(console, "amy@demo: /close", "leader@demo: /close", "leader@demo: /grant @nobody 5 x",
        "amy: /audit")
    rows = fetch(app, select(AuditLog.action, AuditLog.allowed, AuditLog.detail).order_by(AuditLog.id))
    assert rows == [("close", False, "/close"), ("close", False, "no_open_buy: /close"),
                    ("grant", False, "unknown_member: /grant @nobody 5 x"), ("audit", False, "/audit")]


def test_the_owner_reads_the_newest_first_with_old_and_new_values(console, app, clock: Clock):
    say(console, "leader@demo: /config set pickup_days 5")
    clock.advance(hours=1)
    say(console, "amy@demo: /grant @amy 5 me", "leader@demo: /grant @amy 7 thanks")
    [out] = say(console, "leader@demo: /audit")
    assert out.splitlines() == [
        "bot -> leader@demo: 操作紀錄（最新在前）：",
        f"2026-03-10 13:00 · leader · grant · {member(app, 'amy').id} 7 thanks",
        "2026-03-10 13:00 · amy · grant · 已拒絕 · /grant @amy 5 me",
        "2026-03-10 12:00 · leader · config · pickup_days：3 → 5",
    ]


def test_times_follow_the_community_time_zone_and_three_languages(console):
    say(console, "leader@demo: /config set timezone Europe/London", "leader: /start",
        "leader: /lang en")
    [en] = say(console, "leader: /audit 1")
    assert en == "bot -> leader: Audit log, newest first:\n" \
                 "2026-03-10 04:00 · leader · config · timezone: Asia/Taipei → Europe/London"
    say(console, "leader: /lang zh-Hans")
    [hans] = say(console, "leader: /audit 1")
    assert hans.startswith("bot -> leader: 操作记录（最新在前）：\n2026-03-10 04:00 · leader · audit")


def test_ten_by_default_fifty_at_most_and_bad_counts_get_the_usage(console, app):
    for n in range(60):
        say(console, f"leader@demo: /config set pickup_days {n % 9 + 1}")
    assert len(say(console, "leader@demo: /audit")[0].splitlines()) == 1 + 10
    assert len(say(console, "leader@demo: /audit 3")[0].splitlines()) == 1 + 3
    assert len(say(console, "leader@demo: /audit 500")[0].splitlines()) == 1 + 50
    usage = "bot -> leader@demo: 用法：/audit [筆數] – 最新的操作紀錄（預設 10 筆，最多 50 筆）。"
    for wrong in ("0", "-1", "ten", "3 4"):
        assert say(console, f"leader@demo: /audit {wrong}") == [usage]


def test_only_the_owner_reads_the_audit_log(console, app):
    say(console, "bob@demo: hi", "leader@demo: /admin add @bob")
    out = say(console, "bob@demo: /audit", "amy@demo: /audit")
    assert out == ["bot -> bob@demo: 只有團主本人可以使用這個指令。",
                   "bot -> amy@demo: 只有團主或管理員可以使用這個指令。"]
    refused = fetch(app, select(AuditLog.action).where(AuditLog.allowed.is_(False)))  # type: ignore[attr-defined]
    assert refused == ["audit", "audit"]


def test_an_empty_log(console, app):
    say(console, "leader: /start", "leader: /lang en")
    assert say(console, "leader: /audit") == ["bot -> leader: The audit log is empty."]


def test_a_question_back_is_not_a_refusal(console, app):
    say(console, "leader@demo: /open 梨 | 100 | 5 | 明天 20:00",
        "leader@demo: /open 桃 | 100 | 5 | 明天 20:00")
    [which] = say(console, "leader@demo: /close")
    assert "#1" in which and "#2" in which  # asked which buy, with a button each
    assert fetch(app, select(AuditLog.action).where(AuditLog.allowed.is_(False))) == []  # type: ignore[attr-defined]
