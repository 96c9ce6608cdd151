"""What an order costs: list price, tier discount, coupon, points, net — integer minor units."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.coupons import AMOUNT_OFF, FREE_SHIPPING, GIFT, PERCENT_OFF
from models.rules.pricing import Breakdown, price_order


def test_bronze_pays_the_list_price():
    assert price_order(35_000, 2, 100) == Breakdown(70_000, 0, 0, 0, 0, 70_000)


def test_silver_pays_95_percent():
    assert price_order(100_000, 2, 95) == Breakdown(200_000, 10_000, 0, 0, 0, 190_000)


def test_the_tier_price_is_rounded_down_in_the_members_favour():
    cost = price_order(33_333, 1, 95)  # 31,666.35
    assert (cost.tier_discount, cost.net) == (1_667, 31_666)


def test_an_amount_coupon_comes_off_the_tier_price():
    cost = price_order(100_000, 2, 95, AMOUNT_OFF, 10_000)
    assert (cost.coupon_discount, cost.net) == (10_000, 180_000)


def test_a_percent_coupon_is_a_share_of_the_tier_price():
    cost = price_order(100_000, 1, 90, PERCENT_OFF, 10)
    assert (cost.tier_discount, cost.coupon_discount, cost.net) == (10_000, 9_000, 81_000)


@pytest.mark.parametrize("kind", [FREE_SHIPPING, GIFT])
def test_coupons_without_a_price_effect_take_nothing_off(kind):
    assert price_order(10_000, 1, 100, kind, 500).coupon_discount == 0


def test_a_coupon_never_takes_more_than_the_order():
    cost = price_order(3_000, 1, 100, AMOUNT_OFF, 5_000)
    assert (cost.coupon_discount, cost.net) == (3_000, 0)


def test_points_come_off_last_at_their_value():
    cost = price_order(100_000, 2, 95, AMOUNT_OFF, 10_000, points=50, point_value=100)
    assert cost == Breakdown(200_000, 10_000, 10_000, 50, 5_000, 175_000)


def test_points_never_pay_more_than_what_is_left():
    cost = price_order(10_000, 1, 100, AMOUNT_OFF, 5_000, points=500, point_value=100)
    assert (cost.points_used, cost.points_value, cost.net) == (50, 5_000, 0)


def test_only_whole_points_are_taken_the_rest_stays_in_cash():
    cost = price_order(1_050, 1, 100, points=100, point_value=100)  # NT$10.50
    assert (cost.points_used, cost.points_value, cost.net) == (10, 1_000, 50)


@pytest.mark.parametrize("points", [0, -5])
def test_no_or_negative_points_take_nothing(points):
    assert price_order(10_000, 1, 100, points=points).points_used == 0


def test_a_tier_percentage_out_of_range_is_clamped():
    assert price_order(10_000, 1, 120).net == 10_000
    assert price_order(10_000, 1, -5).net == 0


@given(
    unit=st.integers(0, 10_000_000), quantity=st.integers(1, 9_999),
    pct=st.sampled_from([100, 95, 90, 85]),
    coupon=st.one_of(st.none(), st.tuples(st.just(AMOUNT_OFF), st.integers(0, 10**7)),
                     st.tuples(st.just(PERCENT_OFF), st.integers(0, 100))),
    points=st.integers(0, 10**7), point_value=st.sampled_from([1, 10, 100]),
)
def test_net_is_list_less_tier_less_coupon_less_points_and_never_negative(
        unit, quantity, pct, coupon, points, point_value):
    kind, value = coupon if coupon else (None, 0)
    cost = price_order(unit, quantity, pct, kind, value, points, point_value)
    assert cost.list_price == unit * quantity
    assert cost.net == (cost.list_price - cost.tier_discount - cost.coupon_discount
                        - cost.points_value)
    assert cost.net >= 0
    assert 0 <= cost.points_used <= points
    assert cost.points_value == cost.points_used * point_value
    assert cost.net < point_value or cost.points_used == points  # unused points: nothing left
    assert all(isinstance(v, int) for v in (cost.list_price, cost.tier_discount,
                                            cost.coupon_discount, cost.net))
