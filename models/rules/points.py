"""Points: what a purchase or a check-in earns, when points expire, what expires first."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Entry:
    """A ledger entry as the rules see it: signed points and, for earnings, an expiry date."""

    delta: int
    expires_on: date | None


@dataclass(frozen=True, slots=True)
class Lot:
    """Points still available from one earning, and when they expire (None: never)."""

    expires_on: date | None
    points: int


def expiry_date(earned_on: date, months: int = 12) -> date:
    """Points expire at the end of the 12th month after the month they were earned in."""
    month_index = earned_on.year * 12 + (earned_on.month - 1) + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def purchase_points(
    net_amount: int,
    minor_per_point: int,
    tier_multiplier_pct: int,
    campaign_multiplier_pct: int = 100,
) -> int:
    """rate × tier multiplier × campaign multiplier, rounded down, never negative."""
    if net_amount <= 0 or minor_per_point <= 0:
        return 0
    tier_multiplier_pct = max(0, tier_multiplier_pct)
    campaign_multiplier_pct = max(0, campaign_multiplier_pct)
    return (net_amount * tier_multiplier_pct * campaign_multiplier_pct) // (
        minor_per_point * 100 * 100
    )


def _fifo_order(lot: Lot) -> tuple[bool, date]:
    return (lot.expires_on is None, lot.expires_on or date.max)


def open_lots(entries: Iterable[Entry]) -> list[Lot]:
    """Replay the ledger FIFO: every spend or expiry consumes the oldest points first.

    Entries come in ledger order; points that never expire are consumed last. A debit
    larger than what is open (possible only for a leader's deduction) is carried and
    settled by the next earnings.
    """
    lots: list[Lot] = []
    debt = 0
    for entry in entries:
        if entry.delta > 0:
            settled = min(debt, entry.delta)
            debt -= settled
            if entry.delta > settled:
                lots.append(Lot(entry.expires_on, entry.delta - settled))
        elif entry.delta < 0:
            need = -entry.delta
            kept: list[Lot] = []
            for lot in sorted(lots, key=_fifo_order):
                take = min(need, lot.points)
                need -= take
                if lot.points > take:
                    kept.append(Lot(lot.expires_on, lot.points - take))
            lots = kept
            debt += need
    return lots


def expiring_within(lots: Iterable[Lot], today: date, days: int) -> list[Lot]:
    """Lots that expire between today and today + days, soonest first, merged by date."""
    by_date: dict[date, int] = {}
    for lot in lots:
        if lot.expires_on is not None and 0 <= (lot.expires_on - today).days <= days:
            by_date[lot.expires_on] = by_date.get(lot.expires_on, 0) + lot.points
    return [Lot(day, points) for day, points in sorted(by_date.items())]


def expired_by(lots: Iterable[Lot], today: date) -> int:
    """Points whose expiry date has passed and that must be written off."""
    return sum(lot.points for lot in lots if lot.expires_on is not None and lot.expires_on < today)


def next_streak(last_checkin: date | None, streak: int, today: date) -> int | None:
    """The streak after checking in today; None when the member already checked in today."""
    if last_checkin == today:
        return None
    if last_checkin is not None and (today - last_checkin).days == 1:
        return streak + 1
    return 1


def checkin_points(streak: int, base: int, bonus_every: int, bonus: int) -> int:
    """Daily points, plus a bonus on every `bonus_every`-th consecutive day."""
    if bonus_every > 0 and streak > 0 and streak % bonus_every == 0:
        return base + bonus
    return base
