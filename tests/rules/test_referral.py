"""Referral attribution: first touch, new members only, never oneself, never a cycle."""

import pytest

from models.rules.referral import can_attribute


def attribute(referee=1, referrer=2, new=True, has_referrer=False, ancestors=()):
    return can_attribute(referee, referrer, new, has_referrer, list(ancestors))


def test_a_new_member_is_attributed_to_the_referrer():
    assert attribute(ancestors=[3, 4])


def test_a_member_cannot_refer_themselves():
    assert not attribute(referee=7, referrer=7)


def test_the_first_referrer_keeps_the_referee():
    assert not attribute(has_referrer=True)


def test_an_existing_member_cannot_be_referred():
    assert not attribute(new=False)


def test_a_referee_who_is_the_referrers_parent_would_close_a_cycle():
    assert not attribute(referee=1, referrer=2, ancestors=[1])


def test_a_referee_anywhere_up_the_referrers_chain_would_close_a_cycle():
    assert not attribute(referee=1, referrer=2, ancestors=[5, 9, 1, 4])


# Why an attribution is refused, and a referral payload read ----------------------------------

from datetime import UTC, datetime, timedelta  # noqa: E402

from models.programme import programme_from  # noqa: E402
from models.rules.referral import (  # noqa: E402
    ALREADY,
    CYCLE,
    ELSEWHERE,
    EXISTING,
    SELF,
    code_in,
    in_burst,
    ledger_key,
    qualifies,
    refusal,
)


def why(referee=1, referrer=2, same=True, new=True, has=False, ancestors=()):
    return refusal(referee, referrer, same, new, has, list(ancestors))


def test_a_new_member_of_the_same_community_is_not_refused():
    assert why() is None


@pytest.mark.parametrize(("case", "reason"), [
    ({"same": False}, ELSEWHERE), ({"referrer": 1}, SELF), ({"has": True}, ALREADY),
    ({"new": False}, EXISTING), ({"ancestors": [5, 1]}, CYCLE),
])
def test_each_refusal_names_its_reason(case, reason):
    assert why(**case) == reason


@pytest.mark.parametrize(("payload", "code"), [
    ("ref_ABCDEFGH23", "ABCDEFGH23"), ("REF_abcdefgh23", "ABCDEFGH23"), (" ref_WXYZ ", "WXYZ"),
    ("ref_", None), ("ref_AB", None), ("ref_ABCDEFGH2301234567", None), ("ref_ABC0EFGH", "ABC0EFGH"),
    ("ref_ABC;DROP", None), ("ref_ABC DEF", None), ("ref_abc\u0130def", None),
    ("hello", None), ("ref_ＡＢＣＤ", None), ("", None),
])
def test_a_referral_payload_is_ref_and_a_code_of_the_code_alphabet(payload, code):
    assert code_in(payload) == code


T0 = datetime(2026, 3, 10, tzinfo=UTC)
DAY = timedelta(hours=24)


def hours(*offsets):
    return [T0 + timedelta(hours=h) for h in offsets]


def test_eleven_referrals_within_a_day_are_a_burst_for_each_of_them():
    times = hours(*range(11))
    assert all(in_burst(t, times, 10, DAY) for t in times)


def test_ten_referrals_within_a_day_are_no_burst():
    times = hours(*range(10))
    assert not any(in_burst(t, times, 10, DAY) for t in times)


def test_a_referral_outside_the_burst_window_is_not_held():
    times = hours(*range(11), 60)
    assert not in_burst(times[-1], times, 10, DAY)
    assert in_burst(times[0], times, 10, DAY)


def test_a_window_spanning_exactly_the_hold_hours_counts():
    times = hours(*[0] * 10, 24)
    assert in_burst(times[-1], times, 10, DAY)
    assert not in_burst(times[-1], hours(*[0] * 10, 25), 10, DAY)


def test_no_hold_configured_never_holds():
    times = hours(*[0] * 50)
    assert not in_burst(times[0], times, None, DAY)


def test_a_purchase_earns_the_reward_only_from_the_minimum_and_never_at_zero():
    terms = programme_from({"referral_min_purchase": 50_000}).referral
    assert not qualifies(49_999, terms) and qualifies(50_000, terms)
    assert not qualifies(0, programme_from(None).referral)


def test_the_first_rounds_ledger_keys_are_the_keys_rewards_always_had():
    assert ledger_key(7, "referrer", 1) == "referral:7:referrer"
    assert ledger_key(7, "referee", 3) == "referral:7:referee:3"
