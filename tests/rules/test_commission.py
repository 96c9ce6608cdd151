"""The commission rule: a two-level split of an order's net amount, capped, on a monthly
ladder; and the settings a programme may not have."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.programme import ProgrammeError, programme_from
from models.rules.commission import (
    MAX_LEVELS,
    CommissionConfigError,
    beneficiaries,
    check,
    next_step,
    parse_money,
    rate,
    split,
    step_of,
)

LADDER = ((0, 5), (1_000_000, 8), (3_000_000, 10))  # NT$0 / NT$10,000 / NT$30,000


def test_level_1_earns_the_ladder_rate_of_the_distributors_sales_this_month():
    assert rate(LADDER, 0) == 5
    assert rate(LADDER, 999_999) == 5
    assert rate(LADDER, 1_000_000) == 8
    assert rate(LADDER, 3_000_000) == 10
    assert rate(LADDER, 90_000_000) == 10


def test_an_order_of_nt_1000_pays_5_percent_and_2_percent_on_the_first_step():
    assert split(100_000, 0, LADDER, 2, 12) == split(100_000, 0, LADDER, 2, 12)
    paid = split(100_000, 0, LADDER, 2, 12)
    assert (paid.level1, paid.level1_pct, paid.level2, paid.level2_pct) == (5_000, 5, 2_000, 2)
    assert paid.total == 7_000 and paid.cap == 12_000


def test_the_cap_takes_from_level_2_first_because_level_1_is_paid_first():
    paid = split(100_000, 3_000_000, LADDER, 5, 12)  # 10 % + 5 % would be 15 %
    assert (paid.level1, paid.level2, paid.total) == (10_000, 2_000, 12_000)


def test_the_cap_also_bounds_level_1_alone():
    paid = split(100_000, 3_000_000, LADDER, 2, 10)
    assert (paid.level1, paid.level2) == (10_000, 0)


def test_a_level_nobody_may_earn_pays_nothing():
    paid = split(100_000, 0, LADDER, 2, 12, level1=False)
    assert (paid.level1, paid.level2) == (0, 2_000)


def test_amounts_are_rounded_down_to_the_minor_unit():
    paid = split(1_999, 0, LADDER, 2, 12)  # NT$19.99: 5 % is 99.95 cents
    assert (paid.level1, paid.level2) == (99, 39)


def test_what_is_missing_for_the_next_step():
    assert next_step(LADDER, 400_000) == (600_000, 8)
    assert next_step(LADDER, 3_000_000) is None
    assert step_of(LADDER, 1_200_000) == 2


@given(net=st.integers(-10**9, 10**9), sales=st.integers(0, 10**10), l2=st.integers(0, 100),
       cap=st.integers(5, 100))
def test_no_split_ever_exceeds_its_cap_or_goes_negative(net, sales, l2, cap):
    paid = split(net, sales, LADDER, l2, cap)
    assert paid.level1 >= 0 and paid.level2 >= 0
    assert paid.total <= max(0, net) * cap // 100


def test_the_buyers_referrer_is_level_1_and_theirs_level_2_never_level_3():
    assert beneficiaries(4, [3, 2, 1], {1, 2, 3}) == [(1, 3), (2, 2)]


def test_only_active_distributors_are_paid_each_at_their_own_level():
    assert beneficiaries(4, [3, 2], {2}) == [(2, 2)]
    assert beneficiaries(4, [3, 2], set()) == []


def test_nobody_earns_on_their_own_purchase_unless_configured():
    assert beneficiaries(4, [3], {3, 4}) == [(1, 3)]
    assert beneficiaries(4, [3, 2], {2, 3, 4}, self_purchase=True) == [(1, 4), (2, 3)]
    assert beneficiaries(4, [3], {3}, self_purchase=True) == [(1, 3)]  # not a distributor


@given(chain=st.lists(st.integers(1, 20), max_size=6, unique=True), buyer=st.integers(1, 20),
       active=st.sets(st.integers(1, 20)), own=st.booleans())
def test_at_most_two_levels_are_ever_paid(chain, buyer, active, own):
    paid = beneficiaries(buyer, chain, active, self_purchase=own)
    assert len(paid) <= MAX_LEVELS
    assert all(who in active for _, who in paid)
    assert own or buyer not in {who for _, who in paid}


def test_three_levels_are_refused():
    with pytest.raises(CommissionConfigError, match="at most 2 levels"):
        check(LADDER, 2, 12, levels=3)
    with pytest.raises(ProgrammeError, match="at most 2 levels"):
        programme_from({"commission_levels": 3})
    with pytest.raises(ProgrammeError, match="third commission level"):
        programme_from({"commission_level3_pct": 1})


def test_a_cap_below_the_lowest_level_1_rate_is_refused():
    with pytest.raises(ProgrammeError, match="below the lowest level-1 rate"):
        programme_from({"commission_cap_pct": 4})


@pytest.mark.parametrize("ladder", [[[0, 5], [1_000_000, 5]], [[0, 8], [1_000_000, 5]],
                                    [[0, 5], [0, 8]], [[0, 5], [2_000, 8], [1_000, 10]]])
def test_a_ladder_that_does_not_increase_is_refused(ladder):
    with pytest.raises(ProgrammeError, match="must increase"):
        programme_from({"commission_ladder": ladder})


def test_a_negative_rate_is_refused():
    with pytest.raises(ProgrammeError, match="not a rate"):
        programme_from({"commission_level2_pct": -1})
    with pytest.raises(ProgrammeError, match="not a rate"):
        programme_from({"commission_ladder": [[0, -5]], "commission_cap_pct": 12})


def test_other_bad_distribution_settings_are_refused():
    for config in ({"commission_ladder": [[100, 5]]}, {"commission_ladder": []},
                   {"commission_ladder": "5%"}, {"distribution": {"mode": "pyramid"}},
                   {"distribution": {"return_days": -1}}):
        with pytest.raises(ProgrammeError):
            programme_from(config)


def test_the_default_programme_is_the_product_default():
    plan = programme_from(None).distribution
    assert (plan.mode, plan.ladder, plan.level2_pct, plan.cap_pct) == ("apply", LADDER, 2, 12)
    assert (plan.return_window.days, plan.review_days, plan.self_purchase) == (7, 90, False)


def test_payout_amounts_as_leaders_type_them():
    assert parse_money("1200") == 120_000
    assert parse_money("1,200") == 120_000
    assert parse_money("NT$37.5") == 3_750
    assert parse_money("１２００") == 120_000
    for wrong in ("-5", "0", "abc", "1.234", "", "1e5", "1,2"):
        assert parse_money(wrong) is None, wrong


def test_the_readme_example_pays_8_percent_on_step_2_and_2_percent_on_level_2():
    paid = split(100_000, 1_200_000, LADDER, 2, 12)  # NT$1,000; cal has NT$12,000 this month
    assert (paid.level1, paid.level2, paid.cap) == (8_000, 2_000, 12_000)
