"""Referrals through the console: bad referral payloads get a clear answer and change nothing;
a burst of referrals is held, and the leader lists, releases and voids the held rewards."""

from __future__ import annotations

from sqlalchemy import select

from bot.console import ConsoleChannel
from models import communities, members
from models.db import UnitOfWork
from models.tables import AuditLog, ReferralReward
from tests.conftest import say
from tests.test_conversations import member


def code_of(console: ConsoleChannel, name: str) -> str:
    return member(console, name).referral_code


# Bad referral input ------------------------------------------------------------------------------


def test_a_garbled_referral_payload_is_answered_and_records_no_referrer(console):
    say(console, "amy: /start")
    out = say(console, "bob: /start ref_%%%';--")
    assert "這個邀請連結無法辨識" in out[0]
    assert member(console, "bob").referred_by_id is None
    assert "這個邀請連結無法辨識" in say(console, "cat: /start hello")[0]


def test_a_forged_code_nobody_has_is_answered_as_unknown(console):
    say(console, "amy: /start")
    out = say(console, "bob: /start ref_ZZZZZZZZZZ")
    assert "找不到這個邀請碼" in out[0]
    assert member(console, "bob").referred_by_id is None


def test_an_existing_member_using_a_link_is_told_referrals_are_for_new_members(console):
    say(console, "amy: /start", "bob: /start")
    out = say(console, f"bob: /start ref_{code_of(console, 'amy')}")
    assert "你已經是本社群的會員" in out[0]
    assert member(console, "bob").referred_by_id is None


def test_ones_own_code_and_a_second_referrer_are_refused_in_words(console):
    say(console, "amy: /start", "cat: /start")
    assert "不能使用自己的邀請碼" in say(console, f"amy: /start ref_{code_of(console, 'amy')}")[0]
    say(console, f"bob: /start ref_{code_of(console, 'amy')}")
    out = say(console, f"bob: /start ref_{code_of(console, 'cat')}")
    assert "推薦人不會更改" in out[0]
    assert member(console, "bob").referred_by_id == member(console, "amy").id


def test_a_code_of_another_community_is_refused_in_a_group_of_this_one(console):
    with UnitOfWork(console.deps.sessions) as uow:
        north = communities.create(uow.session, "north", "North 團購")
        members.join(uow.session, north, "console", "zed", "zed", "zed", console.deps.clock())
        uow.commit()
    out = say(console, f"bob@demo: /start ref_{code_of(console, 'zed')}")
    assert "這個邀請碼屬於另一個社群" in out[0]
    assert member(console, "bob").referred_by_id is None


# A burst of referrals, held for the leader ---------------------------------------------------------


def burst(console: ConsoleChannel) -> None:
    """Three friends of amy's join within the hour (the hold: more than 2 a day) and buy."""
    with UnitOfWork(console.deps.sessions) as uow:
        demo = members.community_by_slug(uow.session, "demo")
        assert demo is not None
        demo.programme = {"referral_hold": {"over": 2, "hours": 24}}
        uow.session.add(demo)
        uow.commit()
    say(console, "amy: /start")
    code = code_of(console, "amy")
    for name in ("bob", "cat", "dan"):
        say(console, f"{name}: /start ref_{code}")
    say(console, "leader@demo: /open 蘋果 | 100 | - | 2h", "bob@demo: +1", "cat@demo: +1",
        "dan@demo: +1", "leader@demo: /delivered all")
    console.pushes()


def test_a_burst_of_referrals_is_held_and_listed_for_the_leader(console):
    burst(console)
    assert member(console, "amy").points_balance == 0
    out = say(console, "leader@demo: /holds")
    assert "待審核的推薦獎勵" in out[0] and "共 3 筆" in out[0]
    assert "amy 邀請 bob" in out[0] and "amy 邀請 dan" in out[0]


def test_a_member_may_not_see_or_decide_holds(console):
    burst(console)
    for line in ("bob: /holds", "bob: /release @amy", "bob: /void @amy"):
        assert "只有團主或管理員可以使用這個指令" in say(console, line)[0]
    assert member(console, "amy").points_balance == 0


def test_release_by_name_pays_every_held_reward_of_the_referrer_and_tells_both_sides(console):
    burst(console)
    out = say(console, "leader@demo: /release @amy")
    assert "已發放 3 筆推薦獎勵" in out[0]
    assert member(console, "amy").points_balance == 300
    assert member(console, "bob").points_balance == 10 + 50
    told = out + console.pushes()
    assert any(line.startswith("bot -> amy") and "已通過審核" in line for line in told)
    assert any(line.startswith("bot -> bob") and "已通過審核" in line for line in told)
    assert "找不到 @amy 待審核的推薦獎勵" in say(console, "leader@demo: /release @amy")[0]
    assert member(console, "amy").points_balance == 300  # a second tap pays nothing more


def test_void_by_number_declines_one_reward_with_a_reason_audited(console):
    burst(console)
    with console.deps.sessions() as session:
        first = session.execute(select(ReferralReward.id).order_by(ReferralReward.id)).scalars().first()
    out = say(console, f"leader@demo: /void {first} 假帳號")
    assert "已取消 1 筆推薦獎勵" in out[0] and "假帳號" in out[0]
    assert "已取消" in say(console, f"leader@demo: /void ＃{first + 1}")[0]  # full width, with #
    told = out + console.pushes()
    assert any(line.startswith("bot -> amy") and "不予發放（假帳號）" in line for line in told)
    with console.deps.sessions() as session:
        audits = session.execute(select(AuditLog.action, AuditLog.detail)
                                 .where(AuditLog.action == "void")).all()
        statuses = session.execute(select(ReferralReward.status).order_by(ReferralReward.id)).scalars().all()
    assert len(audits) == 2 and "假帳號" in audits[0][1]
    assert statuses == ["void", "void", "held"]
    assert member(console, "amy").points_balance == 0
    say(console, "leader@demo: /release @dan")
    assert member(console, "amy").points_balance == 100


def test_bad_release_and_void_arguments_get_the_usage_or_a_clear_refusal(console):
    burst(console)
    before = done_actions(console)
    assert "用法：/release" in say(console, "leader@demo: /release")[0]
    assert "用法：/void" in say(console, "leader@demo: /void abc")[0]
    assert "用法：/release" in say(console, "leader@demo: /release -3")[0]
    assert "找不到 @nobody" in say(console, "leader@demo: /release @nobody")[0]  # no such member
    assert "找不到 99999999999999" in say(console, "leader@demo: /void 99999999999999")[0]
    assert done_actions(console) == before  # the failed attempts are audited as such, not done
    assert member(console, "amy").points_balance == 0


def done_actions(console: ConsoleChannel) -> list[tuple[str, str]]:
    with console.deps.sessions() as session:
        return [tuple(row) for row in session.execute(select(AuditLog.action, AuditLog.detail)
                                    .where(AuditLog.allowed.is_(True))).all()]
