"""The report's numbers (models/reporting.py), on SQLite and PostgreSQL: buckets cut at local
midnights of the community's time zone, orders that count, rates as the README defines them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import reporting
from models.reporting import Scope
from models.tables import (
    Community,
    Coupon,
    CouponTemplate,
    GroupBuy,
    LineStatus,
    Member,
    Order,
    PointsEntry,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 on Tuesday 10 March in Taipei
_ids = count(1)


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db) as session:
        yield session


def community(session: Session, slug: str = "north") -> Community:
    found = Community(slug=slug, name=slug)
    session.add(found)
    session.flush()
    return found


def member(session: Session, where: Community, *, tier: str = "bronze",
           joined: datetime = NOW, name: str = "") -> Member:
    n = next(_ids)
    found = Member(community_id=where.id, display_name=name or f"m{n}", tier=tier,
                   referral_code=f"R{n}", joined_at=joined)
    session.add(found)
    session.flush()
    return found


def buy(session: Session, where: Community, title: str = "蘋果") -> GroupBuy:
    found = GroupBuy(community_id=where.id, number=next(_ids), channel="console", chat_id="g",
                     title=title, price=100, opens_at=NOW, deadline=NOW)
    session.add(found)
    session.flush()
    return found


def order(session: Session, of: GroupBuy, who: Member, at: datetime, net: int = 10_000,
          status: LineStatus = LineStatus.PAID) -> Order:
    found = Order(group_buy_id=of.id, member_id=who.id, quantity=1, status=status,
                  source_key=f"k{next(_ids)}", unit_price=net, list_price=net, net=net,
                  created_at=at)
    session.add(found)
    session.flush()
    return found


def scope(where: Community, now: datetime = NOW) -> Scope:
    return Scope(where.id, now, TAIPEI, ("bronze", "silver", "gold", "diamond"))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TAIPEI)


def test_members_by_tier_counts_each_tier_in_programme_order_and_leaves_out_merged(session):
    home, other = community(session), community(session, "south")
    for tier in ("bronze", "bronze", "gold"):
        member(session, home, tier=tier)
    gone = member(session, home, tier="gold")
    gone.merged_into_id = member(session, home, tier="silver").id
    member(session, other, tier="diamond")
    chart = reporting.members_by_tier(session, scope(home))
    assert dict(zip(chart.labels, chart.values, strict=True)) == {
        "bronze": 2, "silver": 1, "gold": 1, "diamond": 0}


def test_a_member_who_joined_on_monday_morning_in_taipei_counts_in_that_week(session):
    home = community(session)
    member(session, home, joined=local(2026, 3, 9, 0, 30))  # Sunday 16:30 UTC
    member(session, home, joined=local(2026, 3, 8, 23, 30))  # the week before
    member(session, home, joined=local(2025, 12, 1))  # more than 12 weeks ago: left out
    chart = reporting.new_members_weekly(session, scope(home))
    assert len(chart.labels) == 12 and chart.labels[-1] == "03-09"
    assert chart.values[-2:] == (1.0, 1.0) and sum(chart.values) == 2


def test_repurchase_rate_is_members_with_two_orders_over_members_with_one_per_month(session):
    home = community(session)
    apples = buy(session, home)
    amy, bob, cat = (member(session, home) for _ in range(3))
    for who in (amy, amy, bob):
        order(session, apples, who, local(2026, 3, 2, 10))
    order(session, apples, cat, local(2026, 3, 3), status=LineStatus.CANCELLED)  # not an order
    order(session, apples, cat, local(2026, 3, 3), status=LineStatus.WAITLISTED)
    order(session, apples, bob, local(2026, 3, 1, 0, 10))  # 16:10 UTC on 28 Feb: March here
    order(session, apples, cat, local(2026, 2, 28, 23, 50))  # February
    chart = reporting.repurchase_monthly(session, scope(home))
    assert chart.labels[-2:] == ("2026-02", "2026-03")
    assert chart.parts[-1] == (2, 2) and chart.values[-1] == 1.0
    assert chart.parts[-2] == (0, 1) and chart.values[-2] == 0.0


def test_average_order_value_is_revenue_over_orders_in_minor_units(session):
    home = community(session)
    apples = buy(session, home)
    amy = member(session, home)
    for net in (10_000, 20_000, 5_001):
        order(session, apples, amy, local(2026, 3, 5), net=net)
    order(session, apples, amy, local(2026, 3, 5), net=99_999, status=LineStatus.REFUNDED)
    chart = reporting.order_value_monthly(session, scope(home))
    assert chart.parts[-1] == (35_001, 3) and chart.values[-1] == 11_667


def test_top_products_rank_by_revenue_and_stay_in_their_community(session):
    home, other = community(session), community(session, "south")
    amy = member(session, home)
    pears, apples = buy(session, home, "梨"), buy(session, home, "蘋果")
    order(session, pears, amy, local(2026, 3, 1), net=30_000)
    order(session, apples, amy, local(2026, 3, 1), net=10_000)
    order(session, apples, amy, local(2026, 3, 2), net=10_000)
    order(session, buy(session, other, "芒果"), member(session, other), local(2026, 3, 1),
          net=900_000)
    chart = reporting.top_products(session, scope(home))
    assert list(zip(chart.labels, chart.values, strict=True)) == [("梨", 30_000), ("蘋果", 20_000)]


def points(session: Session, who: Member, delta: int, kind: str, at: datetime) -> None:
    session.add(PointsEntry(member_id=who.id, delta=delta, kind=kind,
                            idem_key=f"p{next(_ids)}", created_at=at))
    session.flush()


def test_points_redemption_is_points_spent_net_of_refunds_over_points_earned(session):
    home = community(session)
    amy = member(session, home)
    points(session, amy, 300, "purchase", local(2026, 3, 1))
    points(session, amy, 100, "grant", local(2026, 3, 2))
    points(session, amy, 500, "opening", local(2026, 3, 2))  # carried over: not earned here
    points(session, amy, -200, "redeem", local(2026, 3, 3))
    points(session, amy, 40, "refund", local(2026, 3, 4))  # 40 of the spent points came back
    points(session, amy, -50, "expire", local(2026, 3, 4))  # neither earned nor spent
    chart = reporting.points_redemption_monthly(session, scope(home))
    assert chart.parts[-1] == (160, 400) and chart.values[-1] == pytest.approx(0.4)


def test_coupon_usage_is_redeemed_over_issued_by_month_of_issue(session):
    home = community(session)
    amy = member(session, home)
    template = CouponTemplate(community_id=home.id, key="b", name="b", kind="amount", value=100)
    session.add(template)
    session.flush()
    for n, redeemed in enumerate((True, False, False, True)):
        session.add(Coupon(template_id=template.id, member_id=amy.id, code=f"C{n}",
                           issued_at=local(2026, 2 + n // 2, 10), valid_until=NOW,
                           redeemed_at=NOW if redeemed else None))
    session.flush()
    chart = reporting.coupon_usage_monthly(session, scope(home))
    assert chart.parts[-2:] == ((1, 2), (1, 2)) and chart.values[-1] == 0.5


def test_an_empty_community_has_empty_charts_not_errors(session):
    home = community(session)
    for data in (reporting.new_members_weekly, reporting.repurchase_monthly,
                 reporting.order_value_monthly, reporting.top_products,
                 reporting.points_redemption_monthly, reporting.coupon_usage_monthly):
        assert data(session, scope(home)).empty, data.__name__


def test_key_numbers_compare_the_last_seven_days_with_the_seven_before(session):
    home = community(session)
    apples = buy(session, home)
    old = member(session, home, joined=local(2026, 3, 1))
    new = member(session, home, joined=local(2026, 3, 9))
    order(session, apples, old, local(2026, 3, 2), net=10_000)  # previous period
    order(session, apples, old, local(2026, 3, 4), net=20_000)  # this one (4 to 10 March)
    order(session, apples, old, local(2026, 3, 10, 11), net=20_000)
    order(session, apples, new, local(2026, 3, 10, 11), net=50_000)
    points(session, member(session, home, joined=local(2026, 1, 1)), 5, "checkin",
           local(2026, 3, 6))
    before, now = reporting.key_numbers(session, scope(home), 7)
    assert (before.new_members, before.active_members, before.orders, before.revenue) == (
        1, 1, 1, 10_000)
    assert (now.new_members, now.active_members, now.orders, now.revenue) == (1, 3, 3, 90_000)
    assert now.order_value == 30_000 and now.repurchase == 0.5 and before.repurchase == 0.0


def test_periods_end_tonight_at_local_midnight(session):
    late = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 01:00 on 1 April in Taipei
    edges = reporting.period_edges(scope(community(session), late), 30)
    assert [e.isoformat() for e in edges] == [
        "2026-02-01T00:00:00+08:00", "2026-03-03T00:00:00+08:00", "2026-04-02T00:00:00+08:00"]
    months = reporting.month_edges(scope(community(session, "x"), late))
    assert months[0].isoformat() == "2025-05-01T00:00:00+08:00"
    assert months[-2:][0].isoformat() == "2026-04-01T00:00:00+08:00"
