"""What a leader writes for a reward or a coupon, in one line (models/rules/offers.py)."""

from __future__ import annotations

from datetime import date

import pytest

from models.rules.coupons import AMOUNT_OFF, FREE_SHIPPING, GIFT, PERCENT_OFF, discount
from models.rules.offers import OfferError, parse_offer

TODAY = date(2026, 3, 10)


def offer(line: str):
    return parse_offer(line.split(), TODAY)


def test_an_amount_coupon_reward_is_kept_in_minor_units():
    got = offer("100元折價券 coupon=amount:100 points=500 stock=50 limit=1")
    assert (got.name, got.kind, got.value, got.points, got.stock, got.limit) == (
        "100元折價券", AMOUNT_OFF, 10_000, 500, 50, 1)


def test_percent_free_shipping_and_gift_rewards():
    assert (offer("九折 coupon=percent:10 points=300").kind, offer("九折 coupon=percent:10 points=3").value) \
        == (PERCENT_OFF, 10)
    assert offer("免運 coupon=shipping points=100").kind == FREE_SHIPPING
    gift = offer("gift=保溫杯 points=800")
    assert (gift.kind, gift.name, gift.gift, gift.value) == (GIFT, "保溫杯", "保溫杯", 0)


def test_a_coupon_may_be_written_bare_with_its_validity_and_minimum():
    got = offer("週年慶 percent:15 days=14 limit=1 min=300")
    assert (got.kind, got.value, got.days, got.limit, got.min_spend) == (PERCENT_OFF, 15, 14, 1, 30_000)
    assert offer("年終 amount:50 until=2026-12-31").until == date(2026, 12, 31)


@pytest.mark.parametrize(("line", "problem"), [
    ("x coupon=amount:0 points=5", "bad_money"),
    ("x coupon=amount:-5 points=5", "bad_money"),
    ("x coupon=amount:abc points=5", "bad_money"),
    ("x coupon=percent:0 points=5", "bad_percent"),
    ("x coupon=percent:101 points=5", "bad_percent"),
    ("x coupon=foo:1 points=5", "bad_coupon_kind"),
    ("x coupon=shipping:5 points=5", "bad_coupon_kind"),
    ("x points=5", "needs_kind"),
    ("x coupon=shipping gift=杯 points=5", "needs_kind"),
    ("x coupon=shipping points=0", "bad_points"),
    ("x coupon=shipping points=-1", "bad_points"),
    ("x coupon=shipping points=99999999", "bad_points"),
    ("x coupon=shipping points=5 stock=0", "bad_stock"),
    ("x coupon=shipping points=5 limit=1000", "bad_limit"),
    ("x coupon=shipping points=5 colour=red", "unknown_term"),
    ("x coupon=shipping points=5 points=6", "repeated_term"),
    ("x coupon=shipping points=5 and more", "unknown_term"),
    ("x amount:5 days=3 until=2026-12-31", "days_or_until"),
    ("x amount:5 until=2026-02-30", "bad_until"),
    ("x amount:5 until=2026-03-09", "bad_until"),
    ("coupon=shipping points=5", "bad_name"),
    ("一二三四五六七八九十一二三四五六七八九十一二三四五 amount:5", "bad_name"),
])
def test_a_mistake_is_named(line, problem):
    with pytest.raises(OfferError) as raised:
        offer(line)
    assert raised.value.problem == problem


def test_full_width_numbers_count_after_folding():
    from models.rules.text import normalize

    assert parse_offer(normalize("券 coupon=amount：１００ points＝５００").split(), TODAY).value == 10_000


def test_percent_off_rounds_down_to_the_price_unit():
    assert discount(PERCENT_OFF, 10, 33_300, unit=100) == 3_300
    assert discount(PERCENT_OFF, 15, 33_300, unit=100) == 4_900  # NT$49.95 → NT$49
    assert discount(PERCENT_OFF, 15, 33_300) == 4_995
    assert discount(PERCENT_OFF, 100, 33_300, unit=100) == 33_300


def test_the_terms_may_be_written_in_chinese():
    got = offer("折價券 券=amount:100 積分=500 庫存=50 每人限=1 低消=300")
    assert (got.value, got.points, got.stock, got.limit, got.min_spend) == (10_000, 500, 50, 1, 30_000)
    assert offer("杯 贈品=保溫杯 积分=800").gift == "保溫杯"
