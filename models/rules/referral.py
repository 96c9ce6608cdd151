"""Referral attribution: first touch, only for new members, never oneself, never a cycle."""

from __future__ import annotations

from collections.abc import Sequence


def can_attribute(
    referee_id: int,
    referrer_id: int,
    referee_is_new: bool,
    referee_has_referrer: bool,
    referrer_ancestors: Sequence[int],
) -> bool:
    """`referrer_ancestors` is the referrer's own chain upwards (its referrer, theirs, …)."""
    if not referee_is_new or referee_has_referrer:
        return False
    if referee_id == referrer_id:
        return False
    return referee_id not in referrer_ancestors
