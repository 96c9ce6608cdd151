"""The leader marks lines of a group buy paid, delivered or cancelled, several at a time.

Each line moves only from a status the mark expects (see `orderlines`); a line someone else
moved a moment ago is left alone and not counted. A cancelled delivered line is refunded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from models import fulfilment, orderlines
from models.buying import promoted_owners
from models.programme import Programme
from models.tables import GroupBuy, LineStatus, Member, Order
from models.types import id_of

MARKS = {"paid": (LineStatus.ALLOCATED,), "delivered": (LineStatus.ALLOCATED, LineStatus.PAID),
         "cancelorder": (LineStatus.ALLOCATED, LineStatus.WAITLISTED, LineStatus.PAID, LineStatus.DELIVERED)}


@dataclass
class Mark:
    """One line that moved, with what the member is to hear about it."""

    order: Order
    member: Member
    tier: str  # the member's tier right after this line (a delivery may upgrade it)
    effects: fulfilment.Effects | None = None  # what a delivery earned
    refunded: bool = False  # cancelled after delivery: refunded


@dataclass
class Marking:
    marked: list[Mark] = field(default_factory=list)
    promoted: list[tuple[Order, Member]] = field(default_factory=list)  # off the waitlist


@dataclass(frozen=True)
class _Step:
    session: Session
    buy: GroupBuy
    programme: Programme
    today: date
    now: datetime


Marker = Callable[[_Step, Order, Member], "tuple[Mark, list[Order]] | None"]


def mark_lines(session: Session, *, buy: GroupBuy, action: str,
               lines: list[tuple[Order, Member]], programme: Programme, today: date,
               now: datetime) -> Marking:
    """Apply `action` ('paid', 'delivered', 'cancelorder') to each line; what moved."""
    step = _Step(session, buy, programme, today, now)
    marking, promoted = Marking(), []
    for order, member in lines:
        done = _MARKERS[action](step, order, member)
        if done is not None:
            marking.marked.append(done[0])
            promoted += done[1]
    orderlines.touch_roster(session, id_of(buy))
    marking.promoted = promoted_owners(session, promoted)
    return marking


def _pay(step: _Step, order: Order, member: Member) -> tuple[Mark, list[Order]] | None:
    if not orderlines.mark_paid(step.session, id_of(step.buy), id_of(order), now=step.now):
        return None
    return Mark(order, member, member.tier), []


def _deliver(step: _Step, order: Order, member: Member) -> tuple[Mark, list[Order]] | None:
    effects = fulfilment.deliver(step.session, order, step.buy, step.programme, step.today,
                                 step.now)
    if effects is None:
        return None
    return Mark(order, member, member.tier, effects=effects), []


def _cancel(step: _Step, order: Order, member: Member) -> tuple[Mark, list[Order]] | None:
    """Cancel an undelivered line; a delivered one is refunded instead."""
    released = fulfilment.cancel(step.session, order, step.buy, step.programme, step.today,
                                 step.now)
    if released is not None:
        return Mark(order, member, member.tier), released.promoted
    promoted = fulfilment.refund(step.session, order, step.buy, step.programme, step.today,
                                 step.now)
    if promoted is None:
        return None
    return Mark(order, member, member.tier, refunded=True), promoted


_MARKERS: dict[str, Marker] = {"paid": _pay, "delivered": _deliver, "cancelorder": _cancel}
