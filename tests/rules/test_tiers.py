"""Membership tiers under DEFAULT_TIERS: bronze 0, silver NT$3,000, gold NT$8,000 or 3
invites, diamond NT$20,000 or 10 invites (money in minor units)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.tiers import DEFAULT_TIERS, Gap, at_period_end, gap_to_next, tier_for, upgraded

T = DEFAULT_TIERS


def tier(spend: int, invites: int = 0) -> str:
    return tier_for(spend, invites, T).key


@pytest.mark.parametrize(
    ("spend", "expected"),
    [
        (0, "bronze"),
        (299_999, "bronze"),
        (300_000, "silver"),
        (799_999, "silver"),
        (800_000, "gold"),
        (1_999_999, "gold"),
        (2_000_000, "diamond"),
        (50_000_000, "diamond"),
    ],
)
def test_spend_reaches_a_tier_exactly_at_its_threshold_and_not_one_below(spend, expected):
    assert tier(spend) == expected


@pytest.mark.parametrize(
    ("invites", "expected"),
    [(0, "bronze"), (2, "bronze"), (3, "gold"), (9, "gold"), (10, "diamond"), (99, "diamond")],
)
def test_qualified_invites_alone_reach_gold_and_diamond(invites, expected):
    assert tier(0, invites) == expected


def test_invites_have_no_path_to_silver():
    assert tier(0, 2) == "bronze"


def test_the_better_of_spend_and_invites_wins():
    assert tier(300_000, 3) == "gold"
    assert tier(800_000, 10) == "diamond"
    assert tier(2_000_000, 0) == "diamond"


def test_gold_member_earns_one_and_a_half_points_and_pays_ninety_percent():
    gold = tier_for(800_000, 0, T)
    assert (gold.points_multiplier_pct, gold.discount_pct) == (150, 90)


def test_an_upgrade_happens_at_once():
    assert upgraded("bronze", 800_000, 0, T) == "gold"
    assert upgraded("silver", 0, 10, T) == "diamond"


def test_upgraded_never_lowers_the_tier_mid_period():
    assert upgraded("diamond", 0, 0, T) == "diamond"
    assert upgraded("gold", 300_000, 2, T) == "gold"


def test_at_period_end_the_tier_can_drop_to_what_the_twelve_months_earn():
    assert at_period_end(300_000, 0, T) == "silver"
    assert at_period_end(0, 0, T) == "bronze"


def test_gap_to_silver_is_spend_only():
    assert gap_to_next("bronze", 100_000, 5, T) == Gap("silver", 200_000, None)


def test_gap_to_gold_counts_missing_spend_and_missing_invites():
    assert gap_to_next("silver", 500_000, 1, T) == Gap("gold", 300_000, 2)


def test_gap_never_goes_negative():
    assert gap_to_next("gold", 3_000_000, 12, T) == Gap("diamond", 0, 0)


def test_there_is_no_gap_at_the_top():
    assert gap_to_next("diamond", 0, 0, T) is None


def test_an_unknown_tier_key_is_an_error():
    with pytest.raises(KeyError):
        upgraded("platinum", 0, 0, T)


amounts = st.integers(min_value=0, max_value=10_000_000)
counts = st.integers(min_value=0, max_value=50)


def rank(key: str) -> int:
    return [t.key for t in T].index(key)


@given(amounts, amounts, counts)
def test_more_spend_never_earns_a_lower_tier(a, b, invites):
    low, high = sorted((a, b))
    assert rank(tier(low, invites)) <= rank(tier(high, invites))


@given(amounts, counts, counts)
def test_more_invites_never_earn_a_lower_tier(spend, a, b):
    low, high = sorted((a, b))
    assert rank(tier(spend, low)) <= rank(tier(spend, high))
