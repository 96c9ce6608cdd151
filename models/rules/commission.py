"""Commission (分銷佣金): who earns on an order, how much, and which settings are allowed.

Pure: integer minor units in and out, percentages as whole numbers. Two levels at most —
three or more levels of commission is pyramid selling under Chinese law and against
WeChat's rules — so `MAX_LEVELS` is not a setting, and a configuration naming a third level
is refused.

Level 1 (the buyer's referrer) is paid at the ladder rate of that distributor's delivered
sales this month *before* the order (the order that crosses a step is paid at the old
rate, the next ones at the new); level 2 (the referrer's referrer) at one smaller rate.
The total on one order is capped at `cap_pct` of its net amount, level 1 first. Every
amount is rounded down to the minor unit, so rounding never pushes past the cap.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from models.rules.text import fold

MAX_LEVELS = 2

Ladder = tuple[tuple[int, int], ...]  # (monthly sales from, in minor units; percent)


class CommissionConfigError(ValueError):
    """A commission setting the rules refuse; the message says which and why."""


@dataclass(frozen=True)
class Split:
    """What one order pays: level 1 first, then level 2 within what the cap leaves."""

    level1: int
    level1_pct: int
    level2: int
    level2_pct: int
    cap: int

    @property
    def total(self) -> int:
        return self.level1 + self.level2


def rate(ladder: Ladder, sales: int) -> int:
    """The ladder's percent for `sales` this month: the highest step reached."""
    reached = [pct for start, pct in ladder if sales >= start]
    return reached[-1] if reached else 0


def step_of(ladder: Ladder, sales: int) -> int:
    """Which step (1-based) `sales` has reached; 0 below the first."""
    return sum(1 for start, _ in ladder if sales >= start)


def next_step(ladder: Ladder, sales: int) -> tuple[int, int] | None:
    """(sales still missing, the percent it brings) for the next step; None at the top."""
    for start, pct in ladder:
        if sales < start:
            return start - sales, pct
    return None


def split(net: int, level1_sales: int, ladder: Ladder, level2_pct: int, cap_pct: int, *,
          level1: bool = True, level2: bool = True) -> Split:
    """The commission on an order of `net` (minor units). `level1`/`level2`: whether that
    level has an active distributor to pay (a level nobody may earn pays nothing)."""
    if net <= 0:
        return Split(0, 0, 0, 0, 0)
    cap = net * cap_pct // 100
    pct1 = rate(ladder, level1_sales) if level1 else 0
    first = min(net * pct1 // 100, cap)
    pct2 = level2_pct if level2 else 0
    second = min(net * pct2 // 100, cap - first)
    return Split(first, pct1, second, pct2, cap)


def beneficiaries(buyer: int, chain: Sequence[int], active: Collection[int], *,
                  self_purchase: bool = False) -> list[tuple[int, int]]:
    """(level, member) pairs paid on `buyer`'s order; two at most, never the buyer unless
    `self_purchase` (then a buyer who is an active distributor is level 1 and their
    referrer level 2). `chain` is the buyer's referrer, theirs, … (upwards); only members in
    `active` (approved, not suspended distributors) are paid, each at their own level."""
    upline = [who for who in chain if who != buyer]
    levels = [buyer, *upline] if self_purchase and buyer in active else upline
    return [(level, who) for level, who in enumerate(levels[:MAX_LEVELS], start=1)
            if who in active]


def check(ladder: Sequence[Sequence[int]], level2_pct: int, cap_pct: int,
          levels: int = MAX_LEVELS) -> Ladder:
    """The ladder as a typed tuple, or CommissionConfigError naming what is wrong."""
    if levels > MAX_LEVELS:
        raise CommissionConfigError(
            f"commission_levels is {levels}: at most {MAX_LEVELS} levels are allowed "
            "(three or more levels is pyramid selling)")
    if levels < 1:
        raise CommissionConfigError(f"commission_levels is {levels}: it must be 1 or 2")
    if not ladder:
        raise CommissionConfigError("commission_ladder is empty: give at least [0, percent]")
    steps: Ladder = tuple((int(step[0]), int(step[1])) for step in ladder)
    if steps[0][0] != 0:
        raise CommissionConfigError("commission_ladder must start at monthly sales 0")
    for (start, pct), (after, higher) in zip(steps, steps[1:], strict=False):
        if after <= start or higher <= pct:
            raise CommissionConfigError(
                "commission_ladder must increase: each step needs more sales and a higher rate "
                f"than the one before ({start}:{pct}% then {after}:{higher}%)")
    for name, pct in [*(("commission_ladder", p) for _, p in steps),
                      ("commission_level2_pct", level2_pct), ("commission_cap_pct", cap_pct)]:
        if not 0 <= pct <= 100:
            raise CommissionConfigError(f"{name}: {pct}% is not a rate between 0 and 100")
    if cap_pct < steps[0][1]:
        raise CommissionConfigError(
            f"commission_cap_pct {cap_pct}% is below the lowest level-1 rate {steps[0][1]}%: "
            "no order could pay its level-1 commission")
    return steps


_MONEY = re.compile(r"^(?:NT\$|\$|NT)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")


def parse_money(text: str, exponent: int = 2) -> int | None:
    """An amount as a leader types it ('1200', '1,200', 'NT$37.50') in minor units; None when
    it is not one (negative, zero, words, more decimals than the currency has)."""
    found = _MONEY.match(fold(text).strip().upper())
    if found is None or (found.group(2) and exponent == 0):
        return None
    whole, cents = found.group(1).replace(",", ""), (found.group(2) or "").ljust(exponent, "0")
    if len(whole) > 12:
        return None
    amount = int(whole) * 10**exponent + (int(cents) if exponent else 0)
    return amount or None
