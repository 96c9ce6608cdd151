"""The referral reward: once per referee however refunds and re-buys interleave, a minimum
purchase, points or a coupon per side, and a burst of referrals held for the leader.

Built on the models (tests/test_fulfilment.py's helpers): each step one transaction.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models import rewards
from models.programme import ProgrammeError, programme_from
from models.rules.referral import COUPON, POINTS
from models.tables import Coupon, Member, Order, PointsEntry, ReferralReward
from tests.test_fulfilment import (
    assert_ledgers_balance,
    balance,
    bought,
    deliver,
    demo,
    get,
    join,
    open_buy,
    person,
    refund,
    rows,
    step,
)

_names = count(1)


def configure(app, **programme) -> None:  # type: ignore[no-untyped-def]
    with step(app) as session:
        community = demo(session)
        community.programme = {**community.programme, **programme}
        session.add(community)


def referral_points(app, member_id: int) -> int:  # type: ignore[no-untyped-def]
    """What the member holds from referral rewards (rewards less their reversals)."""
    entries = rows(app, select(PointsEntry.delta, PointsEntry.debt_delta).where(
        PointsEntry.member_id == member_id,
        PointsEntry.idem_key.like("referral:%")))  # type: ignore[attr-defined]
    return sum(delta - debt for delta, debt in entries)


def reward_of(app, referee: int) -> ReferralReward:  # type: ignore[no-untyped-def]
    with app.deps.sessions() as session:
        found = rewards.of_referee(session, referee)
        assert found is not None
        return found


# Refund and buy again: exactly once ---------------------------------------------------------


def test_a_refunded_first_purchase_then_a_new_one_earns_the_reward_once_more(app):
    amy = person(app, "amy")
    bob = person(app, "bob", referrer="amy")
    first, effects = bought(app, bob, 10_000)
    assert effects.referral_rewarded and balance(app, amy) == 100
    refund(app, first)
    assert balance(app, amy) == 0 and reward_of(app, bob).status == "reversed"
    _, again = bought(app, bob, 20_000)
    assert again.referral_rewarded and again.referral_round == 2
    assert referral_points(app, amy) == 100 and referral_points(app, bob) == 50
    _, third = bought(app, bob, 30_000)
    assert not third.referral_rewarded
    assert referral_points(app, amy) == 100
    assert_ledgers_balance(app)


def test_a_refund_of_the_rewarding_purchase_hands_the_reward_to_a_standing_one(app):
    amy = person(app, "amy")
    bob = person(app, "bob", referrer="amy")
    first, _ = bought(app, bob, 10_000)
    second, _ = bought(app, bob, 20_000)
    refund(app, first)
    reward = reward_of(app, bob)
    assert (reward.status, reward.order_id, reward.round) == ("paid", second, 1)
    assert referral_points(app, amy) == 100


OPS = st.lists(st.one_of(st.tuples(st.just("buy"), st.sampled_from([5_000, 20_000, 60_000])),
                         st.tuples(st.just("refund"), st.integers(0, 5))), max_size=12)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_any_sequence_of_purchases_and_refunds_pays_the_reward_once_while_one_stands(app, ops):
    """With a minimum of NT$100: the referrer holds the reward exactly when the referee has a
    standing delivered purchase of at least NT$100, never twice, never for a smaller one."""
    configure(app, referral_min_purchase=10_000)
    n = next(_names)
    referrer = person(app, f"ref{n}")
    referee = person(app, f"dee{n}", referrer=f"ref{n}")
    standing: list[tuple[int, int]] = []
    for op, value in ops:
        if op == "buy":
            order_id, _ = bought(app, referee, value)
            standing.append((order_id, value))
        elif standing:
            order_id, _ = standing.pop(value % len(standing))
            refund(app, order_id)
        qualifying = any(net >= 10_000 for _, net in standing)
        assert referral_points(app, referrer) == (100 if qualifying else 0)
        assert referral_points(app, referee) == (50 if qualifying else 0)
        if qualifying:
            reward = reward_of(app, referee)
            assert reward.status == "paid"
            assert get(app, Order, reward.order_id).status == "delivered"  # type: ignore[arg-type]
    assert_ledgers_balance(app)


# The minimum first purchase ------------------------------------------------------------------


def test_a_purchase_below_the_minimum_earns_no_reward_and_a_later_one_that_reaches_it_does(app):
    configure(app, referral_min_purchase=50_000)
    amy = person(app, "amy")
    bob = person(app, "bob", referrer="amy")
    _, small = bought(app, bob, 49_900)
    assert not small.referral_rewarded and balance(app, amy) == 0
    _, big = bought(app, bob, 50_000)
    assert big.referral_rewarded and balance(app, amy) == 100


# Points or a coupon, per side ------------------------------------------------------------------


def test_a_side_configured_for_a_coupon_gets_an_amount_off_coupon_instead_of_points(app):
    configure(app, referral_reward={"referrer": "coupon", "referee": "points"},
              referral_reward_coupon={"referrer": 15_000})
    amy = person(app, "amy")
    bob = person(app, "bob", referrer="amy")
    order_id, effects = bought(app, bob, 10_000)
    assert effects.referral_rewarded
    assert referral_points(app, amy) == 0 and referral_points(app, bob) == 50
    [(code, until)] = rows(app, select(Coupon.code, Coupon.valid_until)
                           .where(Coupon.member_id == amy))
    assert until > app.deps.clock()
    refund(app, order_id)  # an unused coupon of a reversed reward expires at once
    [(_, until)] = rows(app, select(Coupon.code, Coupon.valid_until).where(Coupon.member_id == amy))
    assert until <= app.deps.clock()


@pytest.mark.parametrize(("config", "says"), [
    ({"referral_reward": {"referrer": "cash"}}, "referral_reward.referrer must be one of"),
    ({"referral_reward_points": {"referee": -5}}, "referral_reward_points.referee must not be"),
    ({"referral_min_purchase": "lots"}, "referral_min_purchase must be a whole number"),
    ({"referral_hold": {"over": 10, "hours": 0}}, "referral_hold.hours must be at least 1"),
])
def test_a_bad_referral_configuration_is_refused_naming_the_key(config, says):
    with pytest.raises(ProgrammeError, match=says):
        programme_from(config)


def test_the_default_referral_terms_are_points_both_sides_and_a_hold_over_ten_a_day():
    terms = programme_from(None).referral
    assert (terms.referrer.kind, terms.referrer.value) == (POINTS, 100)
    assert (terms.referee.kind, terms.referee.value) == (POINTS, 50)
    assert (terms.hold_over, terms.hold_window, terms.min_purchase) == (10, timedelta(hours=24), 0)
    assert programme_from({"referral_hold": None}).referral.hold_over is None
    assert programme_from({"referral_reward": {"referee": "coupon"}}).referral.referee.kind == COUPON


# A burst of referrals waits for the leader -------------------------------------------------------


def referred_many(app, clock, referrer: str, how_many: int, gap_minutes: int) -> list[int]:  # type: ignore[no-untyped-def]
    made = []
    for i in range(how_many):
        made.append(person(app, f"{referrer}-friend{i}", referrer=referrer))
        clock.advance(minutes=gap_minutes)
    return made


def test_more_than_ten_referrals_in_a_day_put_their_rewards_on_hold(app, clock):
    amy = person(app, "amy")
    friends = referred_many(app, clock, "amy", 11, 60)
    effects = deliver(app, join(app, open_buy(app, price=10_000), friends[0])[0])
    assert effects.referral_held and not effects.referral_rewarded
    assert balance(app, amy) == 0 and balance(app, friends[0]) == 10  # purchase points only
    assert reward_of(app, friends[0]).status == "held"


def test_ten_referrals_in_a_day_are_rewarded_at_once(app, clock):
    amy = person(app, "amy")
    friends = referred_many(app, clock, "amy", 10, 60)
    clock.advance(hours=30)
    person(app, "late", referrer="amy")  # the 11th, but a day after the first ten
    _, effects = bought(app, friends[0], 10_000)
    assert effects.referral_rewarded and balance(app, amy) == 100


def test_a_held_reward_refunded_is_reversed_without_touching_the_ledger(app, clock):
    person(app, "amy")
    friends = referred_many(app, clock, "amy", 11, 1)
    order_id, _ = bought(app, friends[3], 10_000)
    refund(app, order_id)
    assert reward_of(app, friends[3]).status == "reversed"
    assert rows(app, select(PointsEntry.idem_key).where(
        PointsEntry.idem_key.like("referral:%"))) == []  # type: ignore[attr-defined]


def test_the_reward_table_has_one_row_per_referee(app):
    amy = person(app, "amy")
    bob = person(app, "bob", referrer="amy")
    for _ in range(3):
        order_id, _ = bought(app, bob, 10_000)
        refund(app, order_id)
    assert rows(app, select(ReferralReward.referee_id, ReferralReward.round)) == [(bob, 3)]
    assert referral_points(app, amy) == 0
    assert get(app, Member, amy).points_balance == 0
