"""Delivery and refund on the models: what a delivered line earns, and how a refund undoes it.

Each step runs in its own UnitOfWork on the session factory the app uses, as a message would.
The demo community runs the default programme: NT$10 of net spend earns one point (times the
tier multiplier), silver from NT$3,000 in 12 months, referrals 100 (referrer) / 50 (referee).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from bot.app import App
from models import buying, coupons, fulfilment, groupbuys, ledger, lookups, members, referrals
from models import tiers as tier_ops
from models.db import UnitOfWork
from models.programme import Programme, programme_for
from models.rules.coupons import AMOUNT_OFF
from models.tables import (
    CommissionEntry,
    Community,
    Coupon,
    CouponTemplate,
    GroupBuy,
    Member,
    Order,
    PointsEntry,
    SpendEntry,
    TierChange,
)
from tests.distribution_helpers import approve, earned

TAIPEI = ZoneInfo("Asia/Taipei")


# The world the tests build: the demo community, members, group buys -------------------------


@contextmanager
def step(app: App) -> Iterator[Session]:
    """One transaction, committed when the block ends without an error."""
    with UnitOfWork(app.deps.sessions) as uow:
        yield uow.session
        uow.commit()


def now_of(app: App) -> datetime:
    return app.deps.clock()


def today_of(app: App) -> date:
    return now_of(app).astimezone(TAIPEI).date()


def demo(session: Session) -> Community:
    community = members.community_by_slug(session, "demo")
    assert community is not None
    return community


def programme(session: Session) -> Programme:
    return programme_for(demo(session))


def person(app: App, name: str, referrer: str | None = None, tier: str | None = None) -> int:
    """A member (referred by `referrer`, if given, at tier `tier`); returns the id."""
    with step(app) as session:
        joined = members.join(session, demo(session), "console", name, name, name, now_of(app))
        if referrer is not None:
            upline = lookups.by_handle(session, joined.member.community_id, referrer)
            assert upline is not None
            assert referrals.attribute_referral(session, joined, upline)
        if tier is not None:
            tier_ops.change(session, joined.member, tier, "test", now_of(app))
        return joined.member.id  # type: ignore[return-value]


def open_buy(app: App, price: int = 100_000, stock: int | None = None,
             cycle: int | None = None, title: str = "X") -> int:
    with step(app) as session:
        now = now_of(app)
        buy = groupbuys.open_buy(
            session, community_id=demo(session).id, channel="console", chat_id="demo",
            title=title, price=price, stock=stock, cycle_days=cycle, opens_at=now,
            deadline=now + timedelta(hours=3), created_at=now,
        )
        return buy.id  # type: ignore[return-value]


_keys = iter(range(1, 10**9))


def join(app: App, buy_id: int, member_id: int, quantity: int = 1) -> list[int]:
    """The member's '+N'; returns the ids of the lines it made (allocated first)."""
    with step(app) as session:
        buy = session.get(GroupBuy, buy_id)
        who = session.get(Member, member_id)
        assert buy is not None and who is not None
        joined = buying.join_buy(session, buy=buy, member=who, quantity=quantity,
                                 source_key=f"test:{next(_keys)}", programme=programme(session),
                                 now=now_of(app), tz=TAIPEI)
        return [o.id for o in joined.orders]  # type: ignore[misc]


def deliver(app: App, order_id: int) -> fulfilment.Effects:
    with step(app) as session:
        order = session.get(Order, order_id)
        assert order is not None
        buy = session.get(GroupBuy, order.group_buy_id)
        assert buy is not None
        return fulfilment.deliver(session, order, buy, programme(session), today_of(app),
                                  now_of(app))


def refund(app: App, order_id: int) -> list[int]:
    with step(app) as session:
        order = session.get(Order, order_id)
        assert order is not None
        buy = session.get(GroupBuy, order.group_buy_id)
        assert buy is not None
        promoted = fulfilment.refund(session, order, buy, programme(session), today_of(app),
                                     now_of(app))
        return [o.id for o in promoted]  # type: ignore[misc]


def bought(app: App, member_id: int, price: int, quantity: int = 1, cycle: int | None = None
           ) -> tuple[int, fulfilment.Effects]:
    """A delivered purchase in a group buy of its own: (order id, what it earned)."""
    [order_id] = join(app, open_buy(app, price=price, cycle=cycle), member_id, quantity)
    return order_id, deliver(app, order_id)


def grant(app: App, member_id: int, points: int) -> None:
    with step(app) as session:
        who = session.get(Member, member_id)
        assert who is not None
        ledger.post(session, who, points, "grant", f"grant:test:{next(_keys)}", today_of(app))


def coupon_and_points(app: App, order_id: int, value: int, points: int) -> int:
    """The member's '/usepoints' then '/usecoupon' on a line: returns the coupon's id."""
    with step(app) as session:
        order = session.get(Order, order_id)
        assert order is not None
        who, buy = session.get(Member, order.member_id), session.get(GroupBuy, order.group_buy_id)
        assert who is not None and buy is not None
        buying.apply_points(session, buy=buy, order=order, member=who, points=points,
                            programme=programme(session), today=today_of(app))
        tmpl = coupons.template(session, who.community_id, "test_coupon", name="test",
                                kind=AMOUNT_OFF, value=value)
        coupon = coupons.issue(session, who, tmpl, now_of(app))
        assert coupon is not None
        buying.apply_coupon(session, buy=buy, order=order, member=who, code=coupon.code,
                            programme=programme(session), today=today_of(app), now=now_of(app))
        return coupon.id  # type: ignore[return-value]


def get(app: App, table: type, row_id: int):  # type: ignore[no-untyped-def]
    with app.deps.sessions() as session:
        return session.get(table, row_id)


def balance(app: App, member_id: int) -> int:
    return get(app, Member, member_id).points_balance  # type: ignore[no-any-return]


def spend(app: App, member_id: int) -> int:
    with app.deps.sessions() as session:
        who = session.get(Member, member_id)
        return tier_ops.standing(session, who.id, now_of(app))[0]  # type: ignore[arg-type]


def rows(app: App, statement):  # type: ignore[no-untyped-def]
    with app.deps.sessions() as session:
        return session.execute(statement).all()


def assert_ledgers_balance(app: App) -> None:
    """Every member's cached balance is the sum of its ledger entries."""
    with app.deps.sessions() as session:
        for who in session.execute(select(Member)).scalars():
            assert who.points_balance == ledger.ledger_sum(session, who.id), who.display_name  # type: ignore[arg-type]
            assert who.points_debt == ledger.debt_sum(session, who.id), who.display_name  # type: ignore[arg-type]
            assert who.points_balance >= 0 and who.points_debt >= 0, who.display_name


def assert_stock_consistent(app: App) -> None:
    with app.deps.sessions() as session:
        for buy in session.execute(select(GroupBuy)).scalars():
            active = session.execute(select(func.coalesce(func.sum(Order.quantity), 0)).where(
                Order.group_buy_id == buy.id,
                Order.status.in_(groupbuys.ACTIVE))).scalar_one()  # type: ignore[attr-defined]
            assert buy.allocated == active
            assert buy.stock is None or buy.allocated <= buy.stock


# 6. Delivery --------------------------------------------------------------------------------


@pytest.mark.parametrize(("tier", "net", "points"), [
    ("bronze", 100_000, 100),   # NT$1,000 at 100 %: 100 points, × 1
    ("silver", 95_000, 114),    # 95 %: NT$950 → 95 points × 1.2
    ("gold", 90_000, 135),      # 90 %: NT$900 → 90 × 1.5
    ("diamond", 85_000, 170),   # 85 %: NT$850 → 85 × 2
])
def test_delivery_earns_a_point_per_ten_dollars_of_net_times_the_tier_multiplier(
        app, tier, net, points):
    amy = person(app, "amy", tier=tier)
    order_id, effects = bought(app, amy, 100_000)
    assert get(app, Order, order_id).net == net
    assert effects.points == points
    assert balance(app, amy) == points
    [entry] = rows(app, select(PointsEntry.delta, PointsEntry.kind, PointsEntry.idem_key,
                               PointsEntry.expires_on))
    assert entry == (points, "purchase", f"order:{order_id}:earn", date(2027, 3, 31))


def test_purchase_points_round_down(app):
    amy = person(app, "amy")
    _, effects = bought(app, amy, 9_999)  # NT$99.99
    assert effects.points == 9


def test_delivery_records_the_spend_of_the_last_12_months(app):
    amy = person(app, "amy")
    order_id, _ = bought(app, amy, 35_000, quantity=2)
    assert spend(app, amy) == 70_000
    assert rows(app, select(SpendEntry.amount, SpendEntry.source_key)) == [
        (70_000, f"order:{order_id}:spend")]
    assert get(app, Member, amy).first_purchase_at == now_of(app)


def test_crossing_nt3000_upgrades_to_silver_at_once_with_a_gift_coupon(app):
    amy = person(app, "amy")
    _, first = bought(app, amy, 200_000)
    assert (first.upgraded_to, first.gift_code) == (None, None)
    _, second = bought(app, amy, 100_000)
    assert second.upgraded_to == "silver"
    assert get(app, Member, amy).tier == "silver"
    assert second.points == 100  # earned at the tier the member had when it was delivered
    [(code, key, kind, value)] = rows(app, select(Coupon.code, CouponTemplate.key,
                                                  CouponTemplate.kind, CouponTemplate.value)
                                      .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
                                      .where(Coupon.member_id == amy))
    assert (code, key, kind, value) == (second.gift_code, "upgrade_silver", AMOUNT_OFF, 10_000)
    assert rows(app, select(TierChange.from_tier, TierChange.to_tier, TierChange.reason)) == [
        ("bronze", "silver", "qualified")]
    _, third = bought(app, amy, 100_000)
    assert third.upgraded_to is None and third.points == 114  # silver: 95 % price, × 1.2 points


def test_just_under_nt3000_stays_bronze(app):
    amy = person(app, "amy")
    _, effects = bought(app, amy, 299_999)
    assert effects.upgraded_to is None and get(app, Member, amy).tier == "bronze"


def test_a_referral_rewards_both_sides_on_the_referees_first_delivered_purchase(app):
    amy = person(app, "amy")
    bob = person(app, "bob", referrer="amy")
    _, first = bought(app, bob, 10_000)
    assert first.referral_rewarded
    assert balance(app, amy) == 100
    assert balance(app, bob) == 10 + 50
    _, second = bought(app, bob, 10_000)
    assert not second.referral_rewarded
    assert (balance(app, amy), balance(app, bob)) == (100, 10 + 50 + 10)
    assert_ledgers_balance(app)


def test_a_member_without_a_referrer_rewards_nobody(app):
    amy = person(app, "amy")
    _, effects = bought(app, amy, 10_000)
    assert not effects.referral_rewarded
    assert rows(app, select(PointsEntry.kind)) == [("purchase",)]


@pytest.mark.parametrize(("cycle", "quantity", "expected"), [
    (14, 1, date(2026, 3, 22)),   # 03-10 + 14 − 2
    (14, 3, date(2026, 4, 19)),   # 03-10 + 42 − 2
    (30, 2, date(2026, 5, 7)),    # 03-10 + 60 − 2
    (None, 2, None),
])
def test_the_replenishment_date_is_delivered_plus_cycle_times_quantity_less_two_days(
        app, cycle, quantity, expected):
    amy = person(app, "amy")
    order_id, _ = bought(app, amy, 10_000, quantity=quantity, cycle=cycle)
    assert get(app, Order, order_id).replenish_on == expected


def test_the_replenishment_date_is_the_local_delivery_day(app, clock):
    clock.advance(hours=17)  # 2026-03-10 21:00 UTC is already 03-11 in Taipei
    amy = person(app, "amy")
    order_id, _ = bought(app, amy, 10_000, cycle=14)
    assert get(app, Order, order_id).replenish_on == date(2026, 3, 23)


def a_chain_of_four(app: App) -> tuple[int, int, int, int]:
    """ann invited ben, ben invited cal, cal invited dee."""
    ann = person(app, "ann")
    ben = person(app, "ben", referrer="ann")
    cal = person(app, "cal", referrer="ben")
    dee = person(app, "dee", referrer="cal")
    return ann, ben, cal, dee


def test_commission_goes_to_level_1_and_level_2_and_never_to_level_3(app):
    ann, ben, cal, dee = a_chain_of_four(app)
    approve(app, ann, ben, cal)
    order_id, _ = bought(app, dee, 50_000)
    # NT$500: cal 5 % (the first step of the ladder), ben 2 %, ann (level 3) nothing
    assert earned(app, order_id) == [(cal, 1, 2_500), (ben, 2, 1_000)]


def test_commission_with_one_referrer_is_level_1_only(app):
    ann = person(app, "ann")
    ben = person(app, "ben", referrer="ann")
    approve(app, ann)
    bought(app, ben, 50_000)
    assert earned(app) == [(ann, 1, 2_500)]


def test_a_referrer_who_is_not_a_distributor_earns_no_commission(app):
    ann = person(app, "ann")
    ben = person(app, "ben", referrer="ann")
    bought(app, ben, 50_000)
    assert earned(app) == []
    assert balance(app, ann) == 100  # the referral reward is kept


def test_delivery_is_one_transaction(app):
    """Nothing of a delivery lands unless all of it does."""
    amy = person(app, "amy")
    bob = person(app, "bob", referrer="amy")
    approve(app, amy)
    [order_id] = join(app, open_buy(app, price=400_000, cycle=14), bob)
    with UnitOfWork(app.deps.sessions) as uow:
        order = uow.session.get(Order, order_id)
        buy = uow.session.get(GroupBuy, order.group_buy_id)  # type: ignore[union-attr]
        effects = fulfilment.deliver(uow.session, order, buy, programme(uow.session),  # type: ignore[arg-type]
                                     today_of(app), now_of(app))
        assert effects.points and effects.upgraded_to == "silver" and effects.referral_rewarded
        uow.rollback()
    assert get(app, Order, order_id).status == "allocated"
    assert (balance(app, amy), balance(app, bob), spend(app, bob)) == (0, 0, 0)
    assert get(app, Member, bob).tier == "bronze"
    for table in (PointsEntry, SpendEntry, CommissionEntry, Coupon, TierChange):
        assert rows(app, select(func.count()).select_from(table)) == [(0,)], table.__name__


# 7. Refund ----------------------------------------------------------------------------------


def test_a_refund_reverses_the_delivery_exactly(app):
    ann, ben, cal, dee = a_chain_of_four(app)
    approve(app, ben, cal)
    grant(app, dee, 200)
    before = {m: balance(app, m) for m in (ann, ben, cal, dee)}
    buy_id = open_buy(app, price=200_000, stock=5, cycle=14)
    [order_id] = join(app, buy_id, dee, 2)
    coupon_id = coupon_and_points(app, order_id, value=10_000, points=150)
    order = get(app, Order, order_id)
    assert (order.list_price, order.coupon_discount, order.points_value, order.net) == (
        400_000, 10_000, 15_000, 375_000)
    effects = deliver(app, order_id)
    assert effects.points == 375 and effects.upgraded_to == "silver"
    assert balance(app, dee) == 200 - 150 + 375 + 50 and balance(app, cal) == 100
    assert spend(app, dee) == 375_000

    assert refund(app, order_id) == []

    assert {m: balance(app, m) for m in (ann, ben, cal, dee)} == before
    assert_ledgers_balance(app)
    assert spend(app, dee) == 0
    refunded = get(app, Order, order_id)
    assert (refunded.status, refunded.replenish_on) == ("refunded", None)
    assert refunded.cancelled_at == now_of(app)
    assert get(app, Member, dee).first_purchase_at is None
    kinds = rows(app, select(PointsEntry.idem_key, PointsEntry.delta)
                 .where(PointsEntry.member_id.in_((cal, dee))).order_by(PointsEntry.id))  # type: ignore[attr-defined]
    assert set(kinds) >= {(f"order:{order_id}:earn:rev", -375),
                          (f"order:{order_id}:points:back", 150),
                          (f"referral:{dee}:referrer:rev", -100),
                          (f"referral:{dee}:referee:rev", -50)}
    events = rows(app, select(CommissionEntry.beneficiary_id, CommissionEntry.level,
                              CommissionEntry.pending_delta, CommissionEntry.base)
                  .order_by(CommissionEntry.id))
    assert events == [(cal, 1, 18_750, 375_000), (ben, 2, 7_500, 375_000),
                      (cal, 1, -18_750, -375_000), (ben, 2, -7_500, -375_000)]
    assert get(app, Coupon, coupon_id).redeemed_at is None
    assert get(app, GroupBuy, buy_id).allocated == 0
    assert_stock_consistent(app)
    # Tiers fall only at the end of an evaluation period; the upgrade gift is the member's.
    assert get(app, Member, dee).tier == "silver"


def test_a_refund_gives_the_stock_to_the_waitlist(app):
    amy, bob = person(app, "amy"), person(app, "bob")
    buy_id = open_buy(app, price=10_000, stock=2)
    [amy_line] = join(app, buy_id, amy, 2)
    [bob_line] = join(app, buy_id, bob, 1)
    assert get(app, Order, bob_line).status == "waitlisted"
    deliver(app, amy_line)
    assert refund(app, amy_line) == [bob_line]
    assert get(app, Order, bob_line).status == "allocated"
    assert get(app, GroupBuy, buy_id).allocated == 1
    assert_stock_consistent(app)


def test_a_refund_after_the_points_were_spent_leaves_a_debt_that_later_earnings_pay(app):
    amy = person(app, "amy")
    order_id, effects = bought(app, amy, 100_000)
    with step(app) as session:
        who = session.get(Member, amy)
        ledger.post(session, who, -effects.points + 20, "redeem", "spent:most", today_of(app))  # type: ignore[arg-type]
    refund(app, order_id)
    assert (balance(app, amy), get(app, Member, amy).points_debt) == (0, 80)
    grant(app, amy, 30)
    assert (balance(app, amy), get(app, Member, amy).points_debt) == (0, 50)
    grant(app, amy, 70)
    assert (balance(app, amy), get(app, Member, amy).points_debt) == (20, 0)
    assert rows(app, select(PointsEntry.kind, PointsEntry.delta, PointsEntry.debt_delta)
                .where(PointsEntry.kind.in_(("reversal", "repay")))  # type: ignore[attr-defined]
                .order_by(PointsEntry.id)) == [("reversal", -20, 80), ("repay", -30, -30),
                                               ("repay", -50, -50)]
    assert_ledgers_balance(app)


def test_referral_rewards_are_reversed_only_when_no_delivered_purchase_remains(app):
    amy = person(app, "amy")
    bob = person(app, "bob", referrer="amy")
    first, _ = bought(app, bob, 10_000)
    second, _ = bought(app, bob, 20_000)
    refund(app, first)
    assert balance(app, amy) == 100
    assert get(app, Member, bob).first_purchase_at is not None
    refund(app, second)
    assert balance(app, amy) == 0 and balance(app, bob) == 0
    assert spend(app, bob) == 0
    assert_ledgers_balance(app)


def test_refunding_twice_changes_nothing_more(app):
    amy = person(app, "amy")
    order_id, _ = bought(app, amy, 10_000)
    refund(app, order_id)
    with step(app) as session:  # a second refund of the same line (e.g. a replayed job)
        order = session.get(Order, order_id)
        buy = session.get(GroupBuy, order.group_buy_id)  # type: ignore[union-attr]
        order.status = "delivered"  # type: ignore[union-attr]
        buy.allocated += order.quantity  # type: ignore[union-attr]
        fulfilment.refund(session, order, buy, programme(session), today_of(app), now_of(app))  # type: ignore[arg-type]
    assert balance(app, amy) == 0 and spend(app, amy) == 0
    assert_ledgers_balance(app)
