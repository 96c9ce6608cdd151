"""Coupons: what they take off, when they can be used, fresh codes."""

import string
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.coupons import (
    AMOUNT_OFF,
    FREE_SHIPPING,
    GIFT,
    KINDS,
    PERCENT_OFF,
    discount,
    new_code,
    usable,
    within_limit,
)


def test_an_amount_coupon_takes_its_value_off():
    assert discount(AMOUNT_OFF, 5_000, 30_000) == 5_000


def test_an_amount_coupon_never_takes_more_than_the_subtotal():
    assert discount(AMOUNT_OFF, 50_000, 30_000) == 30_000


def test_a_percent_coupon_rounds_down():
    assert discount(PERCENT_OFF, 15, 999) == 149


def test_a_percent_coupon_above_one_hundred_takes_the_whole_subtotal():
    assert discount(PERCENT_OFF, 150, 30_000) == 30_000


def test_negative_coupon_values_take_nothing():
    assert discount(AMOUNT_OFF, -100, 30_000) == 0
    assert discount(PERCENT_OFF, -10, 30_000) == 0


def test_free_shipping_takes_the_shipping_off():
    assert discount(FREE_SHIPPING, 0, 30_000, shipping=6_000) == 6_000


def test_a_gift_coupon_takes_no_money_off():
    assert discount(GIFT, 5_000, 30_000, shipping=6_000) == 0


def test_an_empty_order_gets_no_discount():
    for kind in KINDS:
        assert discount(kind, 5_000, 0, shipping=6_000) == 0


START = datetime(2026, 3, 1)
END = datetime(2026, 4, 1)


def test_a_coupon_is_usable_from_the_moment_it_becomes_valid():
    assert usable(START, START, END, redeemed=False)
    assert not usable(START - timedelta(seconds=1), START, END, redeemed=False)


def test_a_coupon_is_no_longer_usable_at_its_valid_until_moment():
    assert usable(END - timedelta(seconds=1), START, END, redeemed=False)
    assert not usable(END, START, END, redeemed=False)


def test_a_redeemed_coupon_is_not_usable():
    assert not usable(START, START, END, redeemed=True)


def test_the_order_must_reach_the_minimum_spend():
    assert usable(START, START, END, False, subtotal=10_000, min_spend=10_000)
    assert not usable(START, START, END, False, subtotal=9_999, min_spend=10_000)


def test_a_member_may_hold_coupons_up_to_the_limit():
    assert within_limit(1, 2)
    assert not within_limit(2, 2)
    assert within_limit(1_000, None)


def test_a_limit_of_zero_allows_none():
    assert not within_limit(0, 0)


@pytest.mark.parametrize("length", [1, 6, 10, 32])
def test_a_new_code_has_the_asked_length_and_no_look_alike_characters(length):
    for _ in range(50):
        code = new_code(length)
        assert len(code) == length
        assert not set(code) & set("0O1I")
        assert set(code) <= set(string.ascii_uppercase + string.digits)


@given(
    st.sampled_from(KINDS + ("unknown",)),
    st.integers(min_value=-1_000_000, max_value=1_000_000),
    st.integers(min_value=-1_000_000, max_value=10_000_000),
    st.integers(min_value=0, max_value=100_000),
)
def test_a_discount_is_always_between_zero_and_subtotal_plus_shipping(
    kind, value, subtotal, shipping
):
    assert 0 <= discount(kind, value, subtotal, shipping) <= max(0, subtotal) + shipping
