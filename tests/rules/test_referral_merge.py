"""Two members become one person: which referral attribution the person keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.rules.referral import merged_referrer

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_the_earlier_attribution_is_kept():
    chosen = merged_referrer((1, 2), [(at(5), 7), (at(1), 8)], {7: [], 8: []})
    assert chosen == (at(1), 8)


def test_an_attribution_to_the_other_account_is_to_oneself_and_dropped():
    assert merged_referrer((1, 2), [(None, None), (at(1), 1)], {1: []}) is None
    assert merged_referrer((1, 2), [(at(0), 2), (at(3), 9)], {2: [], 9: []}) == (at(3), 9)


def test_an_attribution_whose_referrer_descends_from_the_person_is_a_cycle_and_dropped():
    # 9 was referred by 4, who was referred by 2 (the other account): 1+2 -> 9 -> 4 -> 2.
    assert merged_referrer((1, 2), [(at(0), None), (at(2), 9)], {9: [4, 2]}) is None


def test_a_cycle_falls_back_to_the_next_valid_attribution():
    chosen = merged_referrer((1, 2), [(at(0), 9), (at(2), 5)], {9: [1], 5: [3]})
    assert chosen == (at(2), 5)


def test_an_unknown_time_loses_to_a_known_one_and_ties_keep_the_kept_members():
    assert merged_referrer((1, 2), [(None, 7), (at(9), 8)], {}) == (at(9), 8)
    assert merged_referrer((1, 2), [(at(3), 7), (at(3), 8)], {}) == (at(3), 7)
