"""Champions: the month's (and the quarter's) top distributor by confirmed sales.

Confirmed sales: level-1 sales of the period whose return window had passed when the champion
was picked, net of refunds. Ties: the earlier first such sale wins, then the lower member
number (the member who joined first) — deterministic, and stated in the announcement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

MONTH, QUARTER = "month", "quarter"
QUARTER_STARTS = (1, 4, 7, 10)


@dataclass(frozen=True, slots=True)
class Candidate:
    member_id: int
    sales: int  # minor units
    first_sale: datetime


def champion(candidates: Iterable[Candidate]) -> Candidate | None:
    """The most sales; then the earliest first sale; then the lowest member id. None: no sales."""
    selling = [c for c in candidates if c.sales > 0]
    if not selling:
        return None
    return min(selling, key=lambda c: (-c.sales, c.first_sale, c.member_id))


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # MONTH or QUARTER
    label: str  # '2026-02' or '2026-Q1' (unique per community: one champion each)
    months: tuple[str, ...]  # 'YYYY-MM' of its sales
    year: int
    number: int  # month 1–12 or quarter 1–4


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def ended(today: date) -> list[Period]:
    """The periods whose champion is picked on `today`'s month start: the month before, and on
    the first month of a quarter, the quarter before."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    periods = [Period(MONTH, _month(year, month), (_month(year, month),), year, month)]
    if today.month in QUARTER_STARTS:
        number = (month - 1) // 3 + 1
        first = (number - 1) * 3 + 1
        periods.append(Period(QUARTER, f"{year:04d}-Q{number}",
                              tuple(_month(year, m) for m in range(first, first + 3)), year, number))
    return periods
