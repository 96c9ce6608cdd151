"""A member's rights, through the console: what is stored, a copy of it, erasure, consent."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.inbox import to_payload
from messages.types import Incoming
from models import events
from models.rules.privacy import RetentionError, parse_retention
from models.tables import (
    AuditLog,
    ChannelAccount,
    Consent,
    Distributor,
    InboundEvent,
    Member,
    MemberTag,
    Order,
    OutboxMessage,
    PointsEntry,
)
from scheduler.retention import apply_retention
from tests.conftest import Clock, say
from tests.groupbuy_helpers import count, fetch, ledgers_balance, member, session_of, started


def _file_of(line: str) -> Path:
    return Path(line.rsplit(" ", 1)[-1])


def test_privacy_says_what_is_stored_and_why_in_the_members_language(console):
    out = say(console, "amy: /privacy", "amy: /lang en", "amy: /privacy", "amy: /lang 简体",
              "amy: /隐私")
    assert "生日（只有月、日）" in out[0] and "/forget" in out[0]
    assert "birthday (month and day only) – for your birthday coupon" in out[2]
    assert "生日（只有月、日）——发送生日礼券" in out[4]


def test_mydata_sends_everything_stored_about_the_member_as_a_json_file(console):
    say(console, "amy: /start", "amy: /birthday 03-15", "leader@demo: /grant @amy 120 welcome",
        "amy: /optout", "amy: /optin", "leader: /tag @amy VIP", "amy: /apply 我有媽媽群")
    out = say(console, "amy: /mydata")
    assert any("JSON" in line for line in out)
    data = json.loads(_file_of(out[-1]).read_text(encoding="utf-8"))
    assert data["member"]["birthday"] == "03-15"
    assert data["member"]["points"] == 120
    assert [a["channel"] for a in data["accounts"]] == ["console"]
    assert data["accounts"][0]["handle"] == "amy"
    assert [c["promotions"] for c in data["consent_changes"]] == [False, True]
    assert {c["source"] for c in data["consent_changes"]} == {"command"}
    assert data["points_history"][0]["points"] == 120
    assert data["tags"] == ["VIP"]
    assert data["distributor"]["status"] == "pending" and data["distributor"]["note"] == "我有媽媽群"


def test_mydata_asked_in_a_group_before_starting_the_bot_is_refused_and_sends_nothing(console):
    out = say(console, "amy@demo: /mydata")
    assert "私訊" in out[0]
    assert not any(".json" in line for line in out)


def test_opting_out_and_in_is_recorded_per_channel_with_time_and_source(console, clock: Clock):
    say(console, "amy: /optout")
    clock.advance(hours=2)
    say(console, "amy: /optin")
    rows = fetch(console, select(Consent).order_by(Consent.id))
    assert [(r.channel, r.granted, r.source) for r in rows] == [
        ("console", False, "command"), ("console", True, "command")]
    assert rows[1].at - rows[0].at == timedelta(hours=2)


def test_forget_asks_first_and_anything_but_yes_keeps_everything(console):
    say(console, "amy: /start", "amy: /birthday 03-15")
    out = say(console, "amy: /forget", "amy: no thanks")
    assert "回覆「是」確認刪除" in out[0]
    assert "沒有刪除任何資料" in out[1]
    assert member(console, "amy").birthday_month == 3


def test_forget_erases_the_person_and_keeps_every_ledger_total(console):
    say(console, "amy: /start", "amy: /birthday 03-15", "leader@demo: /grant @amy 120 welcome",
        "leader: /tag @amy VIP", "amy: /apply 我有媽媽群",
        "leader@demo: /open 蘋果 | 100 | 10 | 2099-01-01 20:00", "amy@demo: +2")
    amy = member(console, "amy")
    points_before = fetch(console, select(func.sum(PointsEntry.delta)))[0]
    out = say(console, "amy: /forget", "amy: 是")
    assert "已刪除" in out[-1]
    gone = fetch(console, select(Member).where(Member.id == amy.id))[0]
    assert (gone.display_name, gone.birthday_month, gone.birthday_day) == ("", None, None)
    assert gone.forgotten_at is not None and gone.points_balance == 120
    account = fetch(console, select(ChannelAccount).where(ChannelAccount.member_id == amy.id))[0]
    assert account.external_id.startswith("forgotten-")
    assert (account.handle, account.private_chat) == (None, None)
    assert fetch(console, select(func.sum(PointsEntry.delta)))[0] == points_before
    assert [o.quantity for o in fetch(console, select(Order))] == [2]
    assert fetch(console, select(MemberTag)) == []
    assert [d.note for d in fetch(console, select(Distributor))] == [""]
    ledgers_balance(console)


def test_forget_removes_what_the_member_said_from_stored_inbound_events(console, clock: Clock):
    say(console, "amy: /start", "bob: /start")
    with session_of(console) as session:
        for n, sender in enumerate(["amy", "bob", "amy"]):
            events.accept(session, "console", f"stored-{n}", to_payload(Incoming(
                "console", "demo", sender, "+1 我家地址是…", f"m{n}", is_group=True)), clock())
        session.commit()
    say(console, "amy: /forget", "amy: 是")
    kept = [p["sender"] for p in fetch(console, select(InboundEvent.payload)) if p]
    assert kept == ["bob"]


def test_after_forget_the_same_person_talking_again_is_a_new_member(console):
    say(console, "amy: /start", "amy: /forget", "amy: yes")
    before = count(console, Member)
    say(console, "amy: /me")
    assert count(console, Member) == before + 1


def test_forget_is_only_for_ones_own_data(console):
    say(console, "amy: /start", "bob: /start")
    out = say(console, "bob: /forget @amy")
    assert "不能刪除別人的資料" in out[0]
    assert member(console, "amy").forgotten_at is None


def test_forget_in_a_group_is_refused(console):
    started(console, "amy")
    out = say(console, "amy@demo: /forget")
    assert "私訊" in out[0] and member(console, "amy").forgotten_at is None


def test_the_owner_cannot_erase_themselves_while_owning_the_community(console):
    out = say(console, "leader: /forget")
    assert "團長" in out[0]
    assert member(console, "leader").forgotten_at is None


def test_forgetting_anonymises_the_audit_trail_of_a_forgotten_admin(console):
    say(console, "amy: /start", "leader@demo: /admin add @amy", "amy@demo: /grant @leader 5 x")
    amy = member(console, "amy")
    say(console, "leader@demo: /admin remove @amy", "amy: /forget", "amy: yes")
    actors = set(fetch(console, select(AuditLog.actor).where(AuditLog.actor_member_id == amy.id)))
    assert actors == {f"member #{amy.id} (forgotten)"}


def test_the_retention_job_removes_old_inbound_events_and_old_push_text(console, clock: Clock):
    say(console, "amy: /start", "leader@demo: /grant @amy 5 hi")
    assert count(console, InboundEvent) == 2
    clock.advance(days=31)
    removed = apply_retention(console.deps)
    assert removed["inbox"] == 2 and count(console, InboundEvent) == 0
    clock.advance(days=60)
    apply_retention(console.deps)
    bodies = fetch(console, select(OutboxMessage.body))
    assert all(body == {} for body in bodies)
    assert apply_retention(console.deps)["outbox"] == 0  # nothing twice


@pytest.mark.parametrize("text", ["inbox=1", "inbox=abc", "ledger=5", "outbox=99999"])
def test_a_bad_retention_setting_is_refused_with_its_reason(text):
    with pytest.raises(RetentionError):
        parse_retention(text)


def test_retention_settings_parse_any_subset():
    kept = parse_retention("inbox=7, audit=365")
    assert (kept.inbox_days, kept.outbox_days, kept.audit_days) == (7, 90, 365)


def test_a_forgotten_distributor_is_suspended_and_earns_no_more_commission(console):
    say(console, "amy: /start", "amy: /apply", "leader@demo: /approve @amy", "amy: /forget",
        "amy: yes")
    [row] = fetch(console, select(Distributor))
    assert (row.status, row.reason, row.note) == ("suspended", "forgotten", "")
