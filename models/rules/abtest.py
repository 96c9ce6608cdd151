"""Did a variant sell better, and can we tell yet? (pure)

Conversion rate = members who bought within the window / members assigned to the variant
(holdout included, so it compares like with like). Two arms are compared with the standard
two-proportion z-test (pooled standard error, two-sided p from the normal distribution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class Arm:
    name: str  # 'A', 'B' or 'H' (holdout)
    assigned: int
    converted: int
    revenue: int = 0  # minor units

    @property
    def rate(self) -> float:
        return self.converted / self.assigned if self.assigned else 0.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """`better` converted `lift_pct` % more than `worse` (0: the same); `p` the test's
    two-sided p-value, None when one arm has nobody yet."""

    better: str
    worse: str
    lift_pct: int | None  # None: `worse` converted nobody, so no ratio
    p: float | None
    significant: bool


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """The two-sided p-value that both arms convert at the same rate; None without data.
    Both rates 0 % or both 100 %: nothing tells them apart (p = 1)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    spread = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if spread <= 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(spread)
    return math.erfc(abs(z) / math.sqrt(2))


def lift_pct(rate: float, base: float) -> int | None:
    """How much higher `rate` is than `base`, in whole percent; None when base is 0."""
    if base <= 0:
        return None
    return round((rate - base) / base * 100)


def verdict(first: Arm, second: Arm, alpha: float = ALPHA) -> Verdict:
    better, worse = (first, second) if first.rate >= second.rate else (second, first)
    p = two_proportion_p(first.converted, first.assigned, second.converted, second.assigned)
    return Verdict(better.name, worse.name, lift_pct(better.rate, worse.rate), p,
                   p is not None and p < alpha)
