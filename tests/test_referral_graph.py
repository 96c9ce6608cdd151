"""Property: after any sequence of referrals, purchases and merges (linking), on the database

  * nobody refers themselves and the referral graph has no cycle;
  * nobody is referred by, and no account belongs to, a merged-away member;
  * nobody keeps commission on their own order;
  * each member's cached balance and debt are the sums of their ledger, never below zero.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import Session

from bot.app import App
from models import communities, fulfilment, groupbuys, ledger, linking, members, referrals
from models.db import UnitOfWork
from models.programme import programme_for
from models.tables import ChannelAccount, CommissionEntry, Community, Member, Order
from tests.conftest import Clock

ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("join"), st.integers(0, 4)),            # referred by the k-th, if any
    st.tuples(st.just("buy"), st.integers(0, 4)),
    st.tuples(st.just("merge"), st.integers(0, 4), st.integers(0, 4)),
), min_size=1, max_size=18)


_communities = iter(range(1, 10**9))


def live_ids(session: Session, community_id: int) -> list[int]:
    return list(session.execute(select(Member.id).where(Member.merged_into_id.is_(None),
                                                        Member.community_id == community_id)
                                .order_by(Member.id)).scalars())


def apply(session: Session, community_id: int, action: tuple[int | str, ...], now, n: int  # type: ignore[no-untyped-def]
          ) -> None:
    community = session.get_one(Community, community_id)
    people = live_ids(session, community_id)
    if action[0] == "join" or not people:
        joined = members.join(session, community, "console", f"u{n}", f"u{n}", f"u{n}", now)
        session.flush()
        k = int(action[1])
        if k < len(people):
            referrer = session.get(Member, people[k])
            assert referrer is not None
            referrals.attribute_referral(session, joined, referrer)
    elif action[0] == "buy":
        who = session.get(Member, people[int(action[1]) % len(people)])
        assert who is not None
        buy = groupbuys.open_buy(session, community_id=community.id, channel="console",
                                 chat_id="demo", title="X", price=50_000, opens_at=now,
                                 deadline=now + timedelta(hours=1), created_at=now)
        [line] = groupbuys.join(session, buy, who, 1, f"buy:{community_id}:{n}", 100, now).orders
        fulfilment.deliver(session, line, buy, programme_for(community), now.date(), now)
    else:
        a, b = people[int(action[1]) % len(people)], people[int(action[2]) % len(people)]
        if a == b:
            return
        keep, gone = session.get(Member, min(a, b)), session.get(Member, max(a, b))
        assert keep is not None and gone is not None
        linking.merge(session, keep, gone, now, programme_for(community).tiers)


def check(session: Session, community_id: int) -> None:
    referrer_of = dict(session.execute(select(Member.id, Member.referred_by_id)
                                       .where(Member.merged_into_id.is_(None),
                                              Member.community_id == community_id)).all())
    for start, referrer in referrer_of.items():
        assert referrer != start, f"{start} refers themselves"
        assert referrer is None or referrer in referrer_of, f"{start} referred by a tombstone"
        seen, current = {start}, referrer
        while current is not None:
            assert current not in seen, f"cycle through {start}"
            seen.add(current)
            current = referrer_of.get(current)
    on_tombstones = session.execute(
        select(func.count()).select_from(ChannelAccount).join(Member, Member.id == ChannelAccount.member_id)
        .where(Member.merged_into_id.is_not(None), Member.community_id == community_id)
    ).scalar_one()
    assert on_tombstones == 0
    own = session.execute(
        select(CommissionEntry.order_id,
               func.sum(CommissionEntry.pending_delta + CommissionEntry.confirmed_delta))
        .join(Order, Order.id == CommissionEntry.order_id)
        .where(CommissionEntry.beneficiary_id == Order.member_id)
        .join(Member, Member.id == Order.member_id).where(Member.community_id == community_id)
        .group_by(CommissionEntry.order_id)).all()
    assert all(total == 0 for _, total in own), own
    for who in session.execute(select(Member).where(Member.community_id == community_id)).scalars():
        assert who.points_balance == ledger.ledger_sum(session, who.id)  # type: ignore[arg-type]
        assert who.points_debt == ledger.debt_sum(session, who.id)  # type: ignore[arg-type]
        assert who.points_balance >= 0 and who.points_debt >= 0


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_after_any_referrals_and_merges_nobody_refers_themselves_and_there_is_no_cycle(
        app: App, clock: Clock, actions: list[tuple[int | str, ...]]) -> None:
    """Each example in a community of its own (no wiping between examples)."""
    with UnitOfWork(app.deps.sessions) as uow:
        community = communities.create(uow.session, f"g{next(_communities)}", "g")
        community.programme = {"distribution": {"mode": "everyone"}}  # every referrer earns
        community_id = community.id
        uow.commit()
    for n, action in enumerate(actions):
        clock.advance(minutes=1)
        with UnitOfWork(app.deps.sessions) as uow:
            apply(uow.session, community_id, action, clock.now, n)  # type: ignore[arg-type]
            uow.commit()
        with app.deps.sessions() as session:
            check(session, community_id)  # type: ignore[arg-type]
