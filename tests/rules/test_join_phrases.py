"""What counts as an order: '+1' and the ways a group says "me too", with the quantity.

A false join is worse than a missed one: a bare '+1' with nothing open is chatter and gets no
reply, so only the phrasings in these lists count; everything else stays conversation.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.groupbuy import (
    DEFAULT_MEMBER_CAP,
    BadQuantity,
    configured_cap,
    join_quantity,
    member_cap,
    within_member_limit,
)
from models.rules.text import chinese_number

DIGITS = "一二三四五六七八九"


def chinese(n: int) -> str:
    """1..99 as people write them: 七, 十, 十二, 二十, 三十五."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else "十" if tens == 1 else DIGITS[tens - 1] + "十"
    return head + ("" if ones == 0 else DIGITS[ones - 1])


# "Me too" ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "quantity"), [
    ("同上+1", 1), ("同上 +1", 1), ("同上，+1", 1), ("同上 +2", 2), ("我也+1", 1),
    ("我也 +1", 1), ("我也要+1", 1), ("我也要 +3", 3), ("跟+1", 1), ("跟 +1", 1),
    ("跟團+1", 1), ("跟团+1", 1), ("我+1", 1), ("我要+2", 2), ("也+1", 1), ("同+1", 1),
    ("我也加一", 1), ("我也+1 謝謝", 1), ("同上＋１", 1), ("我要 加兩份", 2),
    ("➕1", 1), ("同上➕1", 1),
])
def test_a_me_too_with_a_plus_counts_as_a_join(text, quantity):
    assert join_quantity(text) == quantity


@pytest.mark.parametrize("text", [
    "同上", "我也要", "我也是", "跟", "+1的人好多", "小明+1", "@團媽 +1", "同意+1", "我也想 +1",
    "這個+1", "那我也", "我也要加一點", "同上 加油", "也是 +1",
])
def test_a_me_too_without_a_plus_or_for_someone_else_is_not_a_join(text):
    assert join_quantity(text) is None


# Quantities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "quantity"), [
    ("+三", 3), ("加兩份", 2), ("加两份", 2), ("+十二", 12), ("+十一", 11), ("+二十", 20),
    ("加二十五", 25), ("+九十九", 99), ("+十", 10), ("+兩", 2), ("加三盒", 3), ("+五 謝謝", 5),
    ("加一！", 1), ("加2份 感恩", 2), ("加一 thanks", 1),
])
def test_a_quantity_may_be_written_in_chinese_numerals(text, quantity):
    assert join_quantity(text) == quantity


@pytest.mark.parametrize("text", [
    "+一百", "+一下", "加一點鹽", "+十十", "+二二", "+兩十", "+一十", "+廿", "加廿", "+零",
    "+〇", "+三十三十", "+1百", "+1萬", "加1個蛋在湯裡", "加十分鐘",
])
def test_what_is_not_a_numeral_from_one_to_ninety_nine_is_not_a_join(text):
    assert join_quantity(text) is None


@pytest.mark.parametrize("text", [
    "+٣", "+३", "+²", "+¹", "+³", "+₂", "+①", "+𝟑", "加٣", "+١٢", "同上+²",
])
def test_other_scripts_digits_and_superscripts_are_not_quantities(text):
    assert join_quantity(text) is None


@given(st.integers(1, 99))
def test_every_count_from_one_to_ninety_nine_in_chinese_numerals_is_that_count(n):
    assert chinese_number(chinese(n)) == n
    assert join_quantity(f"+{chinese(n)}") == n
    assert join_quantity(f"加{chinese(n)}份") == n


@given(st.characters(blacklist_categories=("Cs",)))
def test_no_digit_but_ascii_or_full_width_makes_a_join(ch):
    try:
        quantity = join_quantity(f"+{ch}")
    except BadQuantity:
        quantity = 0
    if quantity is not None:
        assert ch.isascii() or "０" <= ch <= "９" or ch in "一二兩两三四五六七八九十"


# The per-member cap -------------------------------------------------------------------------


def test_without_a_leaders_limit_the_default_cap_is_twenty():
    assert DEFAULT_MEMBER_CAP == 20
    assert member_cap(None, 35_000) == 20
    assert not within_member_limit(0, 500, member_cap(None, 35_000))
    assert within_member_limit(0, 20, member_cap(None, 35_000))


def test_the_leaders_limit_wins_over_the_default_cap_both_ways():
    assert member_cap(50, 35_000) == 50
    assert member_cap(2, 35_000) == 2


def test_a_community_may_set_its_own_default_cap_or_none():
    assert member_cap(None, 35_000, default=5) == 5
    assert member_cap(None, 100, default=configured_cap(0)) == (2**31 - 1) // 100
    assert member_cap(None, 100, default=configured_cap("none")) == (2**31 - 1) // 100


@pytest.mark.parametrize(("value", "cap"), [
    (5, 5), (100, 100), (0, None), ("none", None), (-3, None), (None, 20), ("abc", 20),
    (True, 20), (2.5, 20),
])
def test_the_configured_default_cap_is_a_whole_number_none_or_twenty(value, cap):
    assert configured_cap(value) == cap


def test_the_money_cap_still_lowers_any_limit():
    assert member_cap(None, 2**30, default=20) == 1
    assert member_cap(50, 2**30) == 1
