"""Referral attribution (first touch, only for new members, never oneself, never a cycle) and
the reward: who gets what, from which purchase, and when a burst of referrals waits for review."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


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


# Attribution refused: why, so the member hears a clear answer ---------------------------------

ATTRIBUTED = "attributed"
GARBLED = "garbled"  # not a referral payload at all, or a code that cannot be one
UNKNOWN = "unknown"  # well formed, but nobody has it (forged, or mistyped)
ELSEWHERE = "elsewhere"  # a code of another community
EXISTING = "existing"  # the member was here before: referrals are for new members
ALREADY = "already"  # first touch: the member already has a referrer
SELF = "self"  # one's own code
CYCLE = "cycle"  # the referrer's chain leads back to the member

CODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")  # ASCII: a code is typed
CODE_LENGTHS = range(4, 17)  # codes are 10 characters today (no 0/O, 1/I); older ones vary


def code_in(payload: str) -> str | None:
    """The code of a referral payload `ref_CODE` (any case), or None when it is garbled."""
    text = payload.strip()
    if not text.lower().startswith("ref_"):
        return None
    code = text[4:].upper()
    if len(code) not in CODE_LENGTHS or not set(code) <= CODE_ALPHABET:
        return None
    return code


def refusal(
    referee_id: int,
    referrer_id: int,
    same_community: bool,
    referee_is_new: bool,
    referee_has_referrer: bool,
    referrer_ancestors: Sequence[int],
) -> str | None:
    """Why this attribution is refused (one of the constants above), or None: attribute it."""
    if not same_community:
        return ELSEWHERE
    if referee_id == referrer_id:
        return SELF
    if referee_has_referrer:
        return ALREADY
    if not referee_is_new:
        return EXISTING
    if referee_id in referrer_ancestors:
        return CYCLE
    return None


# The reward: what each side gets, when it waits for the leader -------------------------------

POINTS = "points"
COUPON = "coupon"
REWARD_KINDS = (POINTS, COUPON)


@dataclass(frozen=True, slots=True)
class Reward:
    """One side's reward: `value` points, or an amount-off coupon of `value` minor units."""

    kind: str
    value: int


@dataclass(frozen=True, slots=True)
class ReferralTerms:
    referrer: Reward
    referee: Reward
    min_purchase: int = 0  # minor units: a smaller delivered purchase does not earn the reward
    hold_over: int | None = 10  # more than this many referrals by one referrer within…
    hold_window: timedelta = timedelta(hours=24)  # …this long: their rewards wait for review
    coupon_valid_days: int = 30


def qualifies(net: int, terms: ReferralTerms) -> bool:
    """Does a delivered purchase of `net` minor units earn the referral reward?"""
    return net > 0 and net >= terms.min_purchase


def in_burst(at: datetime, referred: Iterable[datetime], over: int | None,
             window: timedelta) -> bool:
    """Is the referral made `at` part of a burst: some window of `window` length holding `at`
    and more than `over` of the referrer's referrals (`referred`, `at` among them)?"""
    if over is None:
        return False
    times = sorted(t for t in referred if abs(t - at) <= window)
    needed = over + 1
    for start in range(len(times) - needed + 1):
        first, last = times[start], times[start + needed - 1]
        if last - first <= window and first <= at <= last:
            return True
    return False


def ledger_key(referee_id: int, side: str, round_: int) -> str:
    """The idempotency key of one side's reward in its `round_` (1: as keys were before)."""
    return f"referral:{referee_id}:{side}" if round_ <= 1 else f"referral:{referee_id}:{side}:{round_}"
