"""The campaign verdict: the standard two-proportion z-test and the lift between arms."""

from __future__ import annotations

import math

import pytest

from models.rules.abtest import Arm, lift_pct, two_proportion_p, verdict


def test_equal_rates_give_a_p_value_of_one():
    assert two_proportion_p(10, 100, 10, 100) == pytest.approx(1.0)


def test_the_p_value_matches_the_textbook_example():
    # 45/100 vs 30/100: pooled 0.375, z = 0.15 / sqrt(0.375·0.625·0.02) = 2.191, p = 0.0285
    p = two_proportion_p(45, 100, 30, 100)
    assert p == pytest.approx(math.erfc(2.1909 / math.sqrt(2)), abs=1e-3)
    assert p == pytest.approx(0.0285, abs=5e-4)


def test_no_members_in_an_arm_gives_no_p_value():
    assert two_proportion_p(0, 0, 3, 10) is None


def test_nobody_buying_in_either_arm_tells_nothing_apart():
    assert two_proportion_p(0, 50, 0, 50) == 1.0


def test_lift_is_the_relative_difference_in_whole_percent():
    assert lift_pct(0.118, 0.10) == 18
    assert lift_pct(0.08, 0.10) == -20


def test_no_lift_over_an_arm_where_nobody_bought():
    assert lift_pct(0.1, 0.0) is None


def test_a_small_difference_on_few_members_is_not_yet_significant():
    found = verdict(Arm("A", 100, 10), Arm("B", 100, 12))
    assert (found.better, found.worse, found.lift_pct) == ("B", "A", 20)
    assert not found.significant and found.p is not None and found.p > 0.05


def test_the_same_difference_on_many_members_is_significant():
    found = verdict(Arm("A", 10_000, 1_000), Arm("B", 10_000, 1_200))
    assert found.better == "B" and found.significant and found.p is not None and found.p < 0.01


def test_the_first_arm_wins_a_tie():
    found = verdict(Arm("A", 50, 5), Arm("B", 50, 5))
    assert (found.better, found.lift_pct, found.significant) == ("A", 0, False)
