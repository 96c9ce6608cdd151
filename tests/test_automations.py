"""The automatic pushes: each once (dedupe key), each configurable, each in the community's
time zone; and the daily interest tags."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from models.programme import programme_from
from models.tables import Community, MemberTag, OutboxMessage
from scheduler.automations import (
    nudge_tiers,
    refresh_tags,
    remind_expiring_points,
    welcome_new_members,
    win_back,
)
from scheduler.reminders import send_reminders
from tests.conftest import say


def configure(console, **programme: Any) -> None:
    with Session(console.deps.sessions.kw["bind"]) as session:
        community = session.execute(select(Community).where(Community.slug == "demo")).scalar_one()
        community.programme = {**community.programme, **programme}
        session.add(community)
        session.commit()


def to(console, name: str) -> list[str]:
    return [line for line in console.pushes() if line.startswith(f"bot -> {name}")]


def outbox(console, prefix: str) -> list[OutboxMessage]:
    with Session(console.deps.sessions.kw["bind"]) as session:
        return list(session.execute(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith(prefix))).scalars())


def bought(console, name: str, product: str = "蘋果", price: int = 100, category: str = "水果") -> None:
    say(console, f"leader@demo: /open {product} | {price} | - | 2h | {category} | 14",
        f"{name}@demo: +1", "leader@demo: /delivered all", "leader@demo: /close")


# welcome

def test_a_new_member_is_welcomed_once_with_a_coupon_in_the_wallet(console):
    say(console, "amy: /start")
    assert welcome_new_members(console.deps) == 1
    [pushed] = to(console, "amy")
    assert "歡迎加入" in pushed and "新會員禮券已放進錢包：折抵 NT$50" in pushed
    assert "新會員禮券" in say(console, "amy: /coupons")[0]
    assert welcome_new_members(console.deps) == 0 and to(console, "amy") == []


def test_a_member_who_cannot_be_reached_yet_is_welcomed_once_they_start_the_bot(console, clock):
    say(console, "amy@demo: hello")  # in the group only: no private chat
    assert welcome_new_members(console.deps) == 0
    clock.advance(days=2)
    say(console, "amy: /start")
    assert welcome_new_members(console.deps) == 1
    assert "新會員禮券" in say(console, "amy: /coupons")[0]
    assert len(outbox(console, "welcome:")) == 1


def test_no_welcome_for_members_who_joined_before_the_window_or_when_it_is_off(console, clock):
    say(console, "amy: /start")
    clock.advance(days=8)
    assert welcome_new_members(console.deps) == 0
    say(console, "bob: /start")
    configure(console, automations={"welcome": {"on": False}})
    assert welcome_new_members(console.deps) == 0


def test_a_welcome_without_a_coupon_when_its_value_is_zero(console):
    configure(console, automations={"welcome": {"coupon": 0}})
    say(console, "amy: /start")
    assert welcome_new_members(console.deps) == 1
    [pushed] = to(console, "amy")
    assert "歡迎加入" in pushed and "禮券" not in pushed


# win-back

def test_a_lapsed_member_hears_once_per_lapse_with_the_open_buys(console, clock):
    say(console, "amy: /start", "bob: /start")
    bought(console, "amy")
    clock.advance(days=59)
    assert win_back(console.deps) == 0
    clock.advance(days=1, minutes=1)
    say(console, "leader@demo: /open 香蕉 | 50 | - | 3d")
    assert win_back(console.deps) == 1  # bob never ordered: nothing to win back
    [pushed] = to(console, "amy")
    assert "距離你上次下單已經 60 天" in pushed and "香蕉" in pushed
    [row] = outbox(console, "winback:")
    assert row.body["buttons"][0][1].startswith("/join 1 #")
    assert win_back(console.deps) == 0
    say(console, "amy@demo: +1", "leader@demo: /delivered all", "leader@demo: /close")
    clock.advance(days=61)
    assert win_back(console.deps) == 1  # a new lapse


def test_win_back_waits_the_configured_days(console, clock):
    configure(console, automations={"winback": {"days": 30}})
    say(console, "amy: /start")
    bought(console, "amy")
    clock.advance(days=31)
    assert win_back(console.deps) == 1


# points expiry

def test_points_about_to_lapse_are_reminded_once_per_batch(console, clock):
    say(console, "amy: /start", "leader@demo: /grant @amy 100 hello",
        "leader@demo: /deduct @amy 30 oops")
    to(console, "amy")
    clock.advance(days=371)  # 2027-03-16: the grant lapses on 2027-03-31, 15 days away
    assert remind_expiring_points(console.deps) == 0
    clock.advance(days=1)
    assert remind_expiring_points(console.deps) == 1
    [pushed] = to(console, "amy")
    assert "70 點積分將在 2027-03-31 到期" in pushed
    assert remind_expiring_points(console.deps) == 0


def test_no_expiry_reminder_when_the_points_were_spent(console, clock):
    say(console, "amy: /start", "leader@demo: /grant @amy 100 hello",
        "leader@demo: /deduct @amy 100 used")
    clock.advance(days=372)
    assert remind_expiring_points(console.deps) == 0


# keep your tier

def test_a_member_who_would_move_down_is_told_what_to_spend_by_when(console, clock):
    say(console, "amy: /start")
    bought(console, "amy", "禮盒", 3000, "禮品")
    to(console, "amy")
    clock.advance(days=340)  # 2027-02-13: at 03-01 the purchase still counts
    assert nudge_tiers(console.deps) == 0
    clock.advance(days=20)  # 2027-03-05: at 04-01 it no longer does
    assert nudge_tiers(console.deps) == 1
    [pushed] = to(console, "amy")
    assert "在 2027-03-31 前再消費 NT$3,000，就能保住「銀」等級" in pushed
    assert nudge_tiers(console.deps) == 0


def test_no_nudge_for_a_tier_a_leader_set_or_when_it_is_off(console, clock):
    say(console, "amy: /start", "bob: /start", "leader@demo: /settier @bob gold vip")
    bought(console, "amy", "禮盒", 3000, "禮品")
    configure(console, automations={"tier_nudge": {"on": False}})
    clock.advance(days=360)
    assert nudge_tiers(console.deps) == 0
    configure(console, automations={"tier_nudge": {"on": True}})
    assert nudge_tiers(console.deps) == 1  # amy; bob's gold was the leader's choice


# replenishment

def test_a_replenishment_reminder_links_the_open_buy_of_the_same_product(console, clock):
    say(console, "amy: /start")
    bought(console, "amy")
    say(console, "leader@demo: /open 蘋果 | 100 | - | 03-30 20:00 | 水果 | 14")
    clock.advance(days=12)
    assert send_reminders(console.deps) == 1
    [pushed] = to(console, "amy")
    assert "正在開團，按 +1 就能跟團" in pushed
    [row] = outbox(console, "replenish:")
    assert row.body["buttons"] == [["+1 #2 蘋果", "/join 1 #2"]]
    assert outbox(console, "demand:") == []


def test_with_nothing_open_the_leader_hears_how_many_are_due(console, clock):
    say(console, "leader: /start", "amy: /start", "bob: /start")
    for name in ("amy", "bob"):
        bought(console, name)
    clock.advance(days=12)
    assert send_reminders(console.deps) == 2
    [told] = to(console, "leader")
    assert "今天有 2 位會員的蘋果差不多用完了" in told
    send_reminders(console.deps)
    assert len(outbox(console, "demand:")) == 1


# interest tags

def test_two_buys_in_a_category_earn_its_tag_recomputed_daily(console):
    for _ in range(2):
        bought(console, "amy")
    bought(console, "bob")
    say(console, "leader@demo: /tag @bob 水果")  # a leader's own tag of that name stays
    assert refresh_tags(console.deps) == 1
    assert refresh_tags(console.deps) == 1
    assert "目前 2 位會員" in say(console, "leader: /segment new 水果迷 tag=水果")[0]
    with Session(console.deps.sessions.kw["bind"]) as session:
        sources = sorted(t.source for t in session.execute(select(MemberTag)).scalars())
    assert sources == ["auto", "manual"]


def test_the_tag_threshold_is_configurable(console):
    bought(console, "amy")
    configure(console, interest_tags={"min_purchases": 1})
    assert refresh_tags(console.deps) == 1


def test_config_shows_the_automations_as_configured(console):
    configure(console, automations={"winback": {"days": 45}, "tier_nudge": {"on": False}})
    [shown] = say(console, "leader: /config")
    assert "喚回 45 天未下單" in shown and "保級提醒關" in shown and "禮券 NT$50" in shown


def test_a_bad_automation_setting_is_refused_with_a_clear_reason():
    with pytest.raises(ValueError, match="automations.winback.days must be 1–365 days, not 0"):
        programme_from({"automations": {"winback": {"days": 0}}})
    with pytest.raises(ValueError, match="automations: unknown winbak"):
        programme_from({"automations": {"winbak": {"days": 3}}})
