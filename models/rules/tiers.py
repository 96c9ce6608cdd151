"""Membership tiers: which tier a member's 12-month spend and qualified invites earn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

ROLLING = timedelta(days=365)  # spend and invites count over the same rolling 12 months


def rolling_since(now: datetime) -> datetime:
    """The start of the rolling 12 months that end `now`: spend since then counts, and an
    invite counts when the invited member's first purchase was since then."""
    return now - ROLLING


@dataclass(frozen=True, slots=True)
class Tier:
    """One rung of the ladder. Money in minor units; percentages as integers."""

    key: str
    min_spend: int
    min_invites: int | None
    discount_pct: int
    points_multiplier_pct: int


@dataclass(frozen=True, slots=True)
class Gap:
    """What is still missing to reach `tier`: spend, or (if the tier allows it) invites."""

    tier: str
    spend_missing: int
    invites_missing: int | None


def qualifies(tier: Tier, spend_12m: int, qualified_invites: int) -> bool:
    if spend_12m >= tier.min_spend:
        return True
    return tier.min_invites is not None and qualified_invites >= tier.min_invites


def tier_for(spend_12m: int, qualified_invites: int, tiers: Sequence[Tier]) -> Tier:
    """The highest tier the numbers qualify for; the first tier is where everyone starts."""
    reached = tiers[0]
    for tier in tiers[1:]:
        if qualifies(tier, spend_12m, qualified_invites):
            reached = tier
    return reached


def rank(key: str, tiers: Sequence[Tier]) -> int:
    for index, tier in enumerate(tiers):
        if tier.key == key:
            return index
    raise KeyError(key)


def find(key: str, tiers: Sequence[Tier]) -> Tier:
    return tiers[rank(key, tiers)]


def upgraded(current: str, spend_12m: int, qualified_invites: int, tiers: Sequence[Tier]) -> str:
    """Upgrades happen at once; a lower evaluation never lowers the tier mid-period."""
    earned = tier_for(spend_12m, qualified_invites, tiers)
    if rank(earned.key, tiers) > rank(current, tiers):
        return earned.key
    return current


def at_period_end(spend_12m: int, qualified_invites: int, tiers: Sequence[Tier]) -> str:
    """At the end of an evaluation period the tier is whatever the rolling 12 months earn."""
    return tier_for(spend_12m, qualified_invites, tiers).key


def gap_to_next(
    current: str, spend_12m: int, qualified_invites: int, tiers: Sequence[Tier]
) -> Gap | None:
    """What is missing to reach the tier above `current`; None at the top."""
    index = rank(current, tiers)
    if index + 1 >= len(tiers):
        return None
    return gap_to(tiers[index + 1].key, spend_12m, qualified_invites, tiers)


def gap_to(key: str, spend_12m: int, qualified_invites: int, tiers: Sequence[Tier]) -> Gap:
    """What is missing to reach the tier `key`: spend, or (if it allows it) invites."""
    target = find(key, tiers)
    invites_missing = None
    if target.min_invites is not None:
        invites_missing = max(0, target.min_invites - qualified_invites)
    return Gap(target.key, max(0, target.min_spend - spend_12m), invites_missing)


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier("bronze", 0, None, 100, 100),
    Tier("silver", 300_000, None, 95, 120),
    Tier("gold", 800_000, 3, 90, 150),
    Tier("diamond", 2_000_000, 10, 85, 200),
)
