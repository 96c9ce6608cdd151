"""Referral attribution: first touch, only for new members, never oneself, never a cycle."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime


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


def merged_referrer(
    merged: Collection[int],
    candidates: Iterable[tuple[datetime | None, int | None]],
    ancestors: Mapping[int, Sequence[int]],
) -> tuple[datetime | None, int] | None:
    """Two members became one person: which (attributed at, referrer) the person keeps.

    `candidates` are each merged member's own attribution, `merged` their ids, `ancestors`
    each candidate referrer's chain upwards. First touch wins: the earliest attribution
    that is not to the person themselves and whose referrer's chain does not come back to
    the person (a cycle). None: the person keeps no referrer.
    """
    ids = set(merged)
    valid = [(at, referrer) for at, referrer in candidates
             if referrer is not None and referrer not in ids
             and not ids.intersection(ancestors.get(referrer, ()))]
    if not valid:
        return None
    return min(valid, key=lambda c: (c[0] is None, c[0].timestamp() if c[0] else 0.0))
