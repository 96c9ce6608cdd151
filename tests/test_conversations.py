"""Whole conversations through the console channel, as a member and as a leader would type."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from bot.console import ConsoleChannel
from models.tables import AuditLog, ChannelAccount, Coupon, InboundEvent, Member, PointsEntry
from tests.conftest import Clock, say


def member(console: ConsoleChannel, name: str) -> Member:
    with Session(console.deps.sessions.kw["bind"]) as session:  # type: ignore[attr-defined]
        from models.tables import ChannelAccount

        return session.execute(
            select(Member).join(ChannelAccount, ChannelAccount.member_id == Member.id)
            .where(ChannelAccount.handle == name)
        ).scalar_one()


def count(console: ConsoleChannel, table: type) -> int:
    with Session(console.deps.sessions.kw["bind"]) as session:  # type: ignore[attr-defined]
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_member_in_the_group_sees_the_card_in_the_group_until_they_start_the_bot(console):
    first = say(console, "amy@demo: /me")
    assert first[0].startswith("bot -> amy@demo: amy ·「銅」會員")
    assert "再消費 NT$3,000，即可升級為「銀」" in first[0]
    say(console, "amy: /start")
    again = say(console, "amy@demo: /me")
    assert again[0].startswith("bot -> amy: ")


def test_the_card_says_what_is_missing_in_words(console):
    say(console, "amy: /lang en")
    out = say(console, "leader@demo: /settier @amy silver loyal customer", "amy: /me")
    assert "Spend NT$8,000 more or invite 3 more friends who buy to reach Gold." in out[-1]


def test_chinese_and_full_width_aliases_reach_the_same_command(console):
    outs = say(console, "amy: 我的", "amy: ／ｍｅ", "amy: /me@tuanbot_bot")
    assert len(outs) == 3 and all("「銅」會員" in o for o in outs)


def test_simplified_chinese_member(console):
    out = say(console, "amy: /lang 简体", "amy: /me")
    assert out[0] == "bot -> amy: 语言已设定为简体中文。"
    assert "“铜”会员" in out[1]


def test_checkin_once_a_day_with_a_streak_bonus_on_day_seven(console, clock: Clock):
    say(console, "amy: /lang en")
    for day in range(1, 8):
        out = say(console, "amy: /checkin", "amy: /checkin")
        assert f"day {day} in a row" in out[0]
        assert "already checked in" in out[1]
        clock.advance(days=1)
    assert member(console, "amy").points_balance == 6 * 5 + 25
    assert count(console, PointsEntry) == 7


def test_a_broken_streak_starts_again_at_one(console, clock: Clock):
    say(console, "amy: /lang en", "amy: /checkin")
    clock.advance(days=2)
    assert "day 1 in a row" in say(console, "amy: /checkin")[0]


def test_impossible_birthdays_are_refused_and_change_nothing(console):
    say(console, "amy: /lang en")
    for bad in ("02-30", "13-01", "tomorrow"):
        out = say(console, f"amy: /birthday {bad}")
        assert "Usage: /birthday MM-DD" in out[0]
    assert member(console, "amy").birthday_month is None
    assert "Usage" in say(console, "amy: /birthday")[0]


def test_birthday_coupon_only_in_the_birthday_month_and_once_a_year(console, clock: Clock):
    say(console, "amy: /lang en", "amy: /birthday 04-02")
    assert "only in your birthday month (4)" in say(console, "amy: /claim")[0]
    clock.advance(days=30)  # 2026-04-09
    claimed = say(console, "amy: /claim")[0]
    assert "NT$50 off" in claimed
    assert "already claimed your birthday coupon for 2026" in say(console, "amy: /claim")[0]
    assert count(console, Coupon) == 1
    assert "Bronze birthday coupon" in say(console, "amy: /coupons")[0]


def test_birthday_coupon_value_follows_the_tier(console, clock: Clock):
    say(console, "amy: /lang en", "amy: /birthday 03-20",
        "leader@demo: /settier @amy diamond top buyer")
    assert "NT$500 off" in say(console, "amy: /claim")[0]


def test_birthday_cannot_be_moved_to_the_current_month(console):
    say(console, "amy: /lang en", "amy: /birthday 08-01")
    assert "already set to 08-01" in say(console, "amy: /birthday 03-01")[0]
    assert member(console, "amy").birthday_month == 8


def test_invite_gives_a_link_and_a_qr_code_image(console):
    out = say(console, "amy: /lang en", "amy: /invite")
    code = member(console, "amy").referral_code
    assert f"tuanbot://start?ref={code}" in out[1]
    image = out[2].split(": ", 1)[1]
    assert Path(image).read_bytes().startswith(b"\x89PNG")


def test_a_referral_link_attributes_a_new_member_first_touch_only(console):
    amy_code = say(console, "amy: /invite") and member(console, "amy").referral_code
    bea_code = member(console, "amy").referral_code
    say(console, f"bob: /start ref_{amy_code}")
    assert member(console, "bob").referred_by_id == member(console, "amy").id
    say(console, "cat: /start", f"cat: /start ref_{bea_code}")  # not new any more
    assert member(console, "cat").referred_by_id is None


def test_nobody_can_refer_themselves(console):
    say(console, "amy: /start")
    code = member(console, "amy").referral_code
    say(console, f"amy: /start ref_{code}")
    assert member(console, "amy").referred_by_id is None


def test_leader_grants_and_deducts_points_with_a_reason(console):
    say(console, "amy: /start")
    out = say(console, "leader@demo: /grant @amy 120 welcome gift", "leader@demo: /deduct @amy 20 typo")
    assert "已贈送 120 點給 amy（welcome gift）" in out[0]
    assert member(console, "amy").points_balance == 100
    assert "積分不足" in say(console, "leader@demo: /deduct @amy 500 too much")[0]
    assert member(console, "amy").points_balance == 100


def test_leader_can_address_a_member_by_replying_to_their_message(console):
    say(console, "amy@demo: hello everyone")
    out = say(console, "leader@demo: >amy /grant 30 nice photo")
    assert "amy" in out[0] and member(console, "amy").points_balance == 30


def test_bad_leader_arguments_get_the_usage_and_change_nothing(console):
    for line in ("/grant", "/grant @amy", "/grant @amy -5 oops", "/grant @amy 999999999 x",
                 "/grant @amy 10", "/grant @nobody 10 x", "/settier @amy platinum x"):
        out = say(console, "amy: /start", f"leader@demo: {line}")
        assert "用法" in out[-1] or "找不到" in out[-1], line
    assert count(console, PointsEntry) == 0


def test_a_member_cannot_use_leader_commands_and_the_refusal_is_audited(console):
    out = say(console, "amy@demo: /grant @amy 1000 free points")
    assert out == ["bot -> amy@demo: 只有團主或管理員可以使用這個指令。"]
    with Session(console.deps.sessions.kw["bind"]) as session:  # type: ignore[attr-defined]
        refusals = session.execute(select(AuditLog).where(AuditLog.allowed.is_(False))).scalars().all()
    assert [r.action for r in refusals] == ["grant"]
    assert member(console, "amy").points_balance == 0


def test_the_owner_makes_an_admin_who_can_then_grant_but_not_to_themselves(console):
    say(console, "amy: /start", "bob: /start")
    assert "amy 已成為管理員" in say(console, "leader: /admin add @amy")[0]
    assert "已贈送" in say(console, "amy@demo: /grant @bob 5 test")[0]
    assert "只有團主" in say(console, "amy@demo: /grant @amy 1000 self")[0]
    assert "只有團主" in say(console, "amy@demo: /settier @amy 鑽石 self")[0]
    assert "只有團主" in say(console, "amy@demo: /admin add @bob")[0]
    say(console, "leader: /admin remove @amy")
    assert "只有團主" in say(console, "amy@demo: /grant @bob 5 test")[0]
    assert member(console, "amy").points_balance == 0 and member(console, "amy").tier == "bronze"


def test_unknown_commands_get_a_short_help_and_chatter_gets_nothing(console):
    assert "我不認得「/pizza」" in say(console, "amy: /pizza")[0]
    assert say(console, "amy@demo: anyone going to the market?") == []


def test_huge_and_binary_messages_change_nothing(console):
    before = count(console, InboundEvent)
    assert say(console, "amy@demo: " + "x" * 5000) == []
    say(console, "amy@demo: /me " + "\x00\x01\ufffe" * 2000)
    assert count(console, PointsEntry) == 0
    assert count(console, InboundEvent) <= before + 1


def test_a_redelivered_message_changes_nothing(console):
    from handlers.dispatch import handle
    from messages.types import Incoming

    msg = Incoming("console", "amy", "amy", "/checkin", "m-1", handle="amy", sender_name="amy")
    assert handle(msg, console.deps)
    assert handle(msg, console.deps) == []
    assert member(console, "amy").points_balance == 5


def account(console: ConsoleChannel, name: str) -> ChannelAccount:
    with Session(console.deps.sessions.kw["bind"]) as session:  # type: ignore[attr-defined]
        return session.execute(
            select(ChannelAccount).where(ChannelAccount.handle == name)).scalar_one()


def test_opting_out_and_back_in_acts_on_the_channel_it_is_sent_from_and_says_so(console):
    [answer] = say(console, "amy: /lang en", "amy: /optout")[1:]
    assert "no longer receive promotions or reminders on this chat" in answer
    assert account(console, "amy").opted_out
    assert not member(console, "amy").opted_out  # not for every channel
    say(console, "amy: /optin")
    assert not account(console, "amy").opted_out


def test_points_history_shows_what_expires_soon(console, clock: Clock):
    say(console, "amy: /lang en", "leader@demo: /grant @amy 40 thanks")
    clock.advance(days=365 + 5)  # 2027-03-15: the grant expires 2027-03-31
    out = say(console, "amy: /points")[0]
    assert "+40  from the leader (thanks)" in out
    assert "40 on 2027-03-31" in out


def test_help_shows_leader_commands_only_to_staff(console):
    assert "/grant" not in say(console, "amy: /help")[0]
    assert "/grant" in say(console, "leader: /help")[0]


def test_an_unbound_group_is_bound_by_its_leader_only(console):
    assert "尚未綁定" in say(console, "amy@market: /me")[0]
    assert "只有團主" in say(console, "amy@market: /bind")[0]
    assert "已綁定到 Demo" in say(console, "leader@market: /bind")[0]
    assert "「銅」會員" in say(console, "amy@market: /me")[0]


def test_someone_who_only_chatted_can_be_named_by_the_leader(console):
    assert say(console, "bob@demo: 大家好") == []
    assert "已贈送 10 點給 bob" in say(console, "leader@demo: /grant @bob 10 hi")[0]
