"""Referral attribution: first touch, new members only, never oneself, never a cycle."""

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
