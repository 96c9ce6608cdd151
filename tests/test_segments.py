"""Segments evaluated with one SELECT over all members, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from models import segments
from models.db import session_factory
from models.rules.segments import parse_rule
from models.tables import LineStatus
from tests.segment_helpers import NOW, Shop


@pytest.fixture
def session(db) -> Iterator[Session]:
    with session_factory(db)() as session:
        yield session


@pytest.fixture
def shop(session) -> Shop:
    return Shop(session)


def names(session: Session, shop: Shop, text: str, now=NOW) -> list[str]:
    rule = parse_rule(text)
    count, sample = segments.count_and_sample(session, shop.id, rule, now, sample=100)
    assert count == len(sample)
    return sorted(m.display_name for m in sample)


def test_the_issue_example_finds_lapsed_silver_baby_buyers(session, shop):
    amy, bob, cat, dan = (shop.member(n, tier=t) for n, t in
                          [("amy", "silver"), ("bob", "gold"), ("cat", "bronze"), ("dan", "silver")])
    for who in (amy, bob, cat):
        shop.bought(who, "尿布", "母嬰", days_ago=60)
        shop.bought(who, "奶粉", "母嬰", days_ago=45)
    shop.bought(bob, "蘋果", "水果", days_ago=3)  # bought recently: not lapsed
    shop.bought(dan, "尿布", "母嬰", days_ago=50)  # one order only
    assert names(session, shop, "category=母嬰 orders>=2 last_order>30d tier>=silver") == ["amy"]


def test_a_member_with_no_orders_has_zero_orders_and_no_spend(session, shop):
    shop.member("amy")
    shop.bought(shop.member("bob"), "蘋果", days_ago=5)
    assert names(session, shop, "orders=0") == ["amy"]
    assert names(session, shop, "orders<1") == ["amy"]
    assert names(session, shop, "spend<50") == ["amy"]
    assert names(session, shop, "spend>=100") == ["bob"]


def test_a_member_who_never_ordered_matches_no_last_order_test(session, shop):
    shop.member("amy")
    shop.bought(shop.member("bob"), "蘋果", days_ago=40)
    assert names(session, shop, "last_order>30d") == ["bob"]
    assert names(session, shop, "last_order<30d") == []


def test_orders_in_a_period_count_only_that_period(session, shop):
    amy, bob = shop.member("amy"), shop.member("bob")
    shop.bought(amy, "蘋果", days_ago=10)
    shop.bought(amy, "梨", days_ago=20)
    shop.bought(bob, "蘋果", days_ago=10)
    shop.bought(bob, "梨", days_ago=100)
    assert names(session, shop, "orders90d>=2") == ["amy"]
    assert names(session, shop, "orders>=2") == ["amy", "bob"]


def test_cancelled_and_waiting_lines_are_no_orders(session, shop):
    amy = shop.member("amy")
    shop.bought(amy, "蘋果", status=LineStatus.CANCELLED)
    shop.bought(amy, "蘋果", status=LineStatus.WAITLISTED)
    assert names(session, shop, "orders>=1") == []
    assert names(session, shop, "product=蘋果") == []


def test_spend_counts_the_last_twelve_months(session, shop):
    amy, bob = shop.member("amy"), shop.member("bob")
    shop.bought(amy, "禮盒", net=300_000, days_ago=30)
    shop.bought(bob, "禮盒", net=300_000, days_ago=400)
    assert names(session, shop, "spend>=3000") == ["amy"]


def test_category_product_and_their_negations(session, shop):
    amy, bob = shop.member("amy"), shop.member("bob")
    shop.bought(amy, "Green Tea", "飲料")
    shop.bought(bob, "蘋果", "水果")
    assert names(session, shop, "category=飲料") == ["amy"]
    assert names(session, shop, "category!=飲料") == ["bob"]
    assert names(session, shop, "product=\"green tea\"") == ["amy"]
    assert names(session, shop, "product!=蘋果") == ["amy"]


def test_birthday_month_channel_reachability_and_opt_in(session, shop):
    shop.member("amy", birthday_month=3, channel="line")
    shop.member("bob", birthday_month=4, private=False)
    shop.member("cat", opted_out=True)
    assert names(session, shop, "birthday=this_month") == ["amy"]
    assert names(session, shop, "birthday_month>=4") == ["bob"]
    assert names(session, shop, "channel=line") == ["amy"]
    assert names(session, shop, "channel!=line") == ["bob", "cat"]
    assert names(session, shop, "reachable=no") == ["bob"]
    assert names(session, shop, "opted_in=yes reachable=yes") == ["amy"]
    assert names(session, shop, "opted_in=no") == ["cat"]


def test_joined_by_days_or_by_date(session, shop):
    shop.member("amy", joined_days_ago=5)
    shop.member("bob", joined_days_ago=50)
    assert names(session, shop, "joined<30d") == ["amy"]
    assert names(session, shop, "joined>30d") == ["bob"]
    assert names(session, shop, "joined>=2026-03-01") == ["amy"]
    assert names(session, shop, "joined<2026-03-01") == ["bob"]


def test_tags_and_tiers(session, shop):
    from models.tables import MemberTag

    amy = shop.member("amy", tier="gold")
    shop.member("bob")
    session.add(MemberTag(community_id=shop.id, member_id=amy.id, tag="母嬰", source="manual"))
    session.flush()
    assert names(session, shop, "tag=母嬰") == ["amy"]
    assert names(session, shop, "tag!=母嬰") == ["bob"]
    assert names(session, shop, "tier=金") == ["amy"]
    assert names(session, shop, "tier<gold") == ["bob"]


def test_another_communitys_members_and_orders_never_count(session, shop):
    other = Shop(session, "other")
    zed = other.member("zed")
    other.bought(zed, "尿布", "母嬰")
    shop.member("amy")
    assert names(session, shop, "all") == ["amy"]
    assert names(session, shop, "category=母嬰") == []


def test_saved_segments_are_found_by_name_and_replaced(session, shop):
    segments.save_segment(session, community_id=shop.id, name="媽媽", rule_text="category=母嬰",
                          by=None, now=NOW)
    segments.save_segment(session, community_id=shop.id, name="媽媽", rule_text="tag=母嬰",
                          by=None, now=NOW)
    found = segments.find_segment(session, shop.id, "媽媽")
    assert found is not None and found.rule_text == "tag=母嬰"
    assert [s.name for s in segments.list_segments(session, shop.id)] == ["媽媽"]
    assert segments.find_segment(session, Shop(session, "b").id, "媽媽") is None
