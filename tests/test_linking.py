"""One member across platforms: /link joins accounts; nothing is counted twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from handlers.dispatch import handle
from messages.types import Incoming
from models import fulfilment, groupbuys, ledger
from models.db import UnitOfWork
from models.programme import programme_for
from models.tables import ChannelAccount, CommissionEntry, Community, Member, Order, PointsEntry
from tests.conftest import say
from tests.distribution_helpers import everyone_distributes


def incoming(channel: str, user: str, text: str, n: int) -> Incoming:
    return Incoming(channel, user, user, text, f"{user}-{n}", handle=user, sender_name=user)


def session_of(console) -> Session:
    return Session(console.deps.sessions.kw["bind"])  # type: ignore[attr-defined]


def member_of(console, channel: str, user: str) -> Member:
    with session_of(console) as session:
        return session.execute(
            select(Member).join(ChannelAccount, ChannelAccount.member_id == Member.id)
            .where(ChannelAccount.channel == channel, ChannelAccount.external_id == user)
        ).scalar_one()


def code_from(replies) -> str:
    text = replies[0].text
    return text.split("：")[1].split("（")[0].strip() if "：" in text else text.split(": ")[1].split()[0]


def bought(console, member_id: int) -> None:  # type: ignore[no-untyped-def]
    """A delivered purchase of NT$100 (the member may be on a platform the demo group is not)."""
    with UnitOfWork(console.deps.sessions) as uow:
        session, now = uow.session, console.deps.clock()
        who = session.get(Member, member_id)
        community = session.get(Community, who.community_id)
        buy = groupbuys.open_buy(session, community_id=community.id, channel="console",
                                 chat_id="demo", title="梨", price=10_000, opens_at=now,
                                 deadline=now + timedelta(hours=2), created_at=now)
        [line] = groupbuys.join(session, buy, who, 1, f"test:{member_id}", 100, now).orders
        fulfilment.deliver(session, line, buy, programme_for(community), now.date(), now)
        uow.commit()


def test_a_link_code_joins_a_second_platform_account_and_merges_points(console):
    say(console, "amy: /checkin", "leader@demo: /grant @amy 40 welcome")
    deps = console.deps
    handle(incoming("line", "U-amy", "/checkin", 1), deps)  # a separate member on LINE
    assert member_of(console, "line", "U-amy").id != member_of(console, "console", "amy").id
    code = code_from(handle(incoming("console", "amy", "/link", 2), deps))
    replies = handle(incoming("line", "U-amy", f"/link {code}", 3), deps)
    assert "連結完成" in replies[0].text
    kept = member_of(console, "line", "U-amy")
    assert kept.id == member_of(console, "console", "amy").id
    assert kept.points_balance == 5 + 40 + 5
    with session_of(console) as session:
        assert ledger.ledger_sum(session, kept.id) == kept.points_balance
        members = session.execute(select(func.count()).select_from(Member)
                                  .where(Member.merged_into_id.is_(None))).scalar_one()
    assert members == 2  # leader and amy


def test_a_link_code_works_once(console):
    deps = console.deps
    say(console, "amy: /start")
    code = code_from(handle(incoming("console", "amy", "/link", 1), deps))
    handle(incoming("line", "U-1", f"/link {code}", 1), deps)
    again = handle(incoming("line", "U-2", f"/link {code}", 1), deps)
    assert "已使用或已過期" in again[0].text


def test_an_expired_link_code_is_refused(console, clock):
    deps = console.deps
    say(console, "amy: /start")
    code = code_from(handle(incoming("console", "amy", "/link", 1), deps))
    clock.advance(minutes=11)
    assert "已過期" in handle(incoming("line", "U-1", f"/link {code}", 1), deps)[0].text


def test_a_new_platform_account_is_attached_without_a_second_member(console):
    deps = console.deps
    say(console, "amy: /start")
    code = code_from(handle(incoming("console", "amy", "/link", 1), deps))
    with session_of(console) as session:
        before = session.execute(select(func.count()).select_from(Member)).scalar_one()
    handle(incoming("wechat", "o-amy", f"/link {code}", 1), deps)
    assert member_of(console, "wechat", "o-amy").id == member_of(console, "console", "amy").id
    with session_of(console) as session:
        after = session.execute(select(func.count()).select_from(Member)).scalar_one()
    assert after == before + 1  # the throwaway member the first contact created, merged away


def test_link_codes_are_never_shown_or_used_in_a_group(console):
    say(console, "carl@demo: hi", "leader@demo: >carl /grant 500 vip")
    out = say(console, "carl@demo: /link")
    assert "私訊" in out[0] and "連結碼：" not in out[0]
    code = code_from(handle(incoming("console", "carl", "/link", 9), console.deps))
    refused = say(console, f"dan@demo: /link {code}")
    assert "私訊" in refused[0]
    assert member_of(console, "console", "carl").points_balance == 500


def test_a_code_cannot_join_two_accounts_of_the_same_platform(console):
    say(console, "amy: /start", "bob: /start")
    code = code_from(handle(incoming("console", "amy", "/link", 1), console.deps))
    refused = handle(incoming("console", "bob", f"/link {code}", 1), console.deps)
    assert "另一個 App" in refused[0].text
    assert member_of(console, "console", "bob").id != member_of(console, "console", "amy").id


# One person, one identity: nothing lands on a merged-away member -----------------------------


def linked(console, first: tuple[str, str], second: tuple[str, str], n: int) -> None:
    """`/link` on the first account, `/link CODE` on the second."""
    code = code_from(handle(incoming(*first, "/link", n), console.deps))
    handle(incoming(*second, f"/link {code}", n + 1), console.deps)


def test_a_code_given_by_a_member_later_merged_away_attaches_to_the_kept_member(console):
    say(console, "amy: /start")
    deps = console.deps
    handle(incoming("line", "U-amy", "/checkin", 1), deps)  # amy on LINE: a member of her own
    stale = code_from(handle(incoming("line", "U-amy", "/link", 2), deps))
    linked(console, ("console", "amy"), ("line", "U-amy"), 3)  # LINE's member is merged away
    amy = member_of(console, "console", "amy")
    handle(incoming("wechat", "o-amy", f"/link {stale}", 5), deps)
    assert member_of(console, "wechat", "o-amy").id == amy.id
    say(console, "leader@demo: /grant @o-amy 7 hello wechat")
    assert member_of(console, "console", "amy").points_balance == 5 + 7
    with session_of(console) as session:
        tombstones = session.execute(select(Member).where(Member.merged_into_id.is_not(None))).scalars().all()
        assert tombstones and all(t.merged_into_id == amy.id and t.points_balance == 0
                                  for t in tombstones)
        on_tombstones = session.execute(
            select(func.count()).select_from(ChannelAccount)
            .join(Member, Member.id == ChannelAccount.member_id)
            .where(Member.merged_into_id.is_not(None))).scalar_one()
    assert on_tombstones == 0


def test_grant_by_handle_finds_one_person_whose_two_accounts_share_the_handle(console):
    say(console, "amy: /start")
    handle(incoming("line", "U-amy", "/start", 1), console.deps)  # LINE handle "U-amy"
    linked(console, ("console", "amy"), ("line", "U-amy"), 2)
    with session_of(console) as session:
        session.execute(update(ChannelAccount).values(handle="amy"))  # both accounts say "amy"
        session.commit()
    out = say(console, "leader@demo: /grant @amy 10 welcome")
    assert out[0].startswith("bot -> leader@demo: 已贈送 10 點給")
    assert member_of(console, "line", "U-amy").points_balance == 10


def test_an_account_left_on_a_merged_away_member_finds_the_kept_member(console):
    """Data an earlier release left behind: the lookups never land on a tombstone."""
    say(console, "amy: /start")
    handle(incoming("line", "U-amy", "/start", 1), console.deps)
    gone = member_of(console, "line", "U-amy").id
    linked(console, ("console", "amy"), ("line", "U-amy"), 2)
    with session_of(console) as session:
        session.execute(update(ChannelAccount).where(ChannelAccount.channel == "line")
                        .values(member_id=gone))
        session.commit()
    handle(incoming("line", "U-amy", "/checkin", 4), console.deps)
    amy = member_of(console, "console", "amy")
    assert amy.points_balance == 5
    assert member_of(console, "line", "U-amy").id == amy.id  # and the account moved back


def test_a_referral_code_of_a_merged_away_member_attributes_to_the_kept_member(console):
    say(console, "amy: /start")
    handle(incoming("line", "U-amy", "/start", 1), console.deps)
    old_code = member_of(console, "line", "U-amy").referral_code
    linked(console, ("console", "amy"), ("line", "U-amy"), 2)
    say(console, f"bob: /start ref_{old_code}")
    assert member_of(console, "console", "bob").referred_by_id == member_of(console, "console", "amy").id


def test_a_merge_keeps_the_earlier_referral_and_never_makes_a_cycle(console):
    everyone_distributes(console)
    """pat (console) invites xan; later pat joins on LINE from xan's link, then links."""
    say(console, "pat: /start")
    pat = member_of(console, "console", "pat")
    say(console, f"xan: /start ref_{pat.referral_code}")
    xan = member_of(console, "console", "xan")
    handle(incoming("line", "U-pat", f"/start ref_{xan.referral_code}", 1), console.deps)
    assert member_of(console, "line", "U-pat").referred_by_id == xan.id
    linked(console, ("console", "pat"), ("line", "U-pat"), 2)
    assert member_of(console, "console", "pat").referred_by_id is None
    assert member_of(console, "console", "xan").referred_by_id == pat.id
    say(console, "leader@demo: /open 梨 | 100 | - | 2h", "pat@demo: +1", "xan@demo: +1",
        "leader@demo: /delivered all")
    with session_of(console) as session:
        events = session.execute(select(CommissionEntry.beneficiary_id, Order.member_id)
                                 .join(Order, Order.id == CommissionEntry.order_id)).all()
    assert events == [(pat.id, xan.id)]  # xan's order pays pat; pat's own pays nobody


def test_commission_earned_on_ones_own_order_through_the_other_account_is_reversed(console):
    """pat on LINE joined from pat's own console link and bought: after linking, the sale
    pays pat nothing and the referral rewards for referring oneself are taken back."""
    everyone_distributes(console)
    say(console, "pat: /start")
    pat = member_of(console, "console", "pat")
    handle(incoming("line", "U-pat", f"/start ref_{pat.referral_code}", 1), console.deps)
    line_pat = member_of(console, "line", "U-pat")
    assert line_pat.referred_by_id == pat.id
    bought(console, line_pat.id)  # type: ignore[arg-type]
    assert member_of(console, "console", "pat").points_balance == 100  # the referrer's reward
    linked(console, ("console", "pat"), ("line", "U-pat"), 4)
    with session_of(console) as session:
        standing = session.execute(
            select(func.coalesce(func.sum(CommissionEntry.pending_delta
                                          + CommissionEntry.confirmed_delta), 0))
            .where(CommissionEntry.beneficiary_id == pat.id)).scalar_one()
        kept = session.get(Member, pat.id)
        assert kept is not None and kept.referred_by_id is None
        assert kept.points_balance == ledger.ledger_sum(session, pat.id)
        referral = session.execute(select(func.coalesce(func.sum(PointsEntry.delta), 0))
                                   .where(PointsEntry.kind.in_(("referral", "reversal")),
                                          PointsEntry.member_id == pat.id)).scalar_one()
    assert standing == 0
    assert referral == 0
