"""A buy's life after opening: reopened after a close (before delivery), its deadline moved.

Each change is one conditional UPDATE on the buy's status; the loser of a race (a double
tap) changes nothing and hears the buy's status as it now is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlmodel import Session, col

from models.buying import brief, owners, promoted_owners
from models.errors import DomainError
from models.orderlines import serve_waitlist, touch_roster
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order
from models.types import id_of, rows_matched

SETTLED = (LineStatus.DELIVERED, LineStatus.REFUNDED)  # a buy with such a line stays closed


@dataclass
class Reopened:
    back_in_line: list[tuple[Order, Member]] = field(default_factory=list)  # waiting again
    promoted: list[tuple[Order, Member]] = field(default_factory=list)  # and served at once


def reopen_buy(session: Session, buy: GroupBuy, *, deadline: datetime | None,
               now: datetime) -> Reopened:
    """A closed buy is open again, its orders as they were and the waiting lines its close
    ended back in their places; refused once anything of it was delivered, or when its
    deadline has passed and no new one is given."""
    if _has_settled_lines(session, id_of(buy)):
        raise DomainError("buy_delivered", buy=brief(buy))
    deadline = deadline or buy.deadline
    if deadline <= now:
        raise DomainError("reopen_needs_deadline", buy=brief(buy))
    reopened = session.execute(
        update(GroupBuy).where(col(GroupBuy.id) == buy.id, col(GroupBuy.status) == BuyStatus.CLOSED)
        .values(status=BuyStatus.OPEN, deadline=deadline, roster_rev=col(GroupBuy.roster_rev) + 1)
        .execution_options(synchronize_session="fetch"))
    if rows_matched(reopened) != 1:
        raise DomainError("buy_is_open", buy=brief(buy))
    ended = list(session.execute(
        select(Order).where(col(Order.group_buy_id) == buy.id, col(Order.closed_out),
                            col(Order.status) == LineStatus.CANCELLED).order_by(col(Order.id))
    ).scalars())
    back = [o for o in ended if rows_matched(session.execute(
        update(Order).where(col(Order.id) == o.id, col(Order.status) == LineStatus.CANCELLED,
                            col(Order.closed_out))
        .values(status=LineStatus.WAITLISTED, cancelled_at=None, closed_out=False)
        .execution_options(synchronize_session="fetch"))) == 1]
    touch_roster(session, id_of(buy))
    promoted = serve_waitlist(session, id_of(buy))
    served = {o.id for o in promoted}
    return Reopened([(o, m) for o, m in owners(session, back) if o.id not in served],
                    promoted_owners(session, promoted))


def extend_buy(session: Session, buy: GroupBuy, *, deadline: datetime, now: datetime) -> None:
    """Move the open buy's deadline (later or earlier, but ahead of now and of its opening)."""
    if deadline <= max(now, buy.opens_at):
        raise DomainError("deadline_past", when=deadline.strftime("%Y-%m-%d %H:%M"))
    moved = session.execute(
        update(GroupBuy).where(col(GroupBuy.id) == buy.id, col(GroupBuy.status) == BuyStatus.OPEN)
        .values(deadline=deadline, roster_rev=col(GroupBuy.roster_rev) + 1)
        .execution_options(synchronize_session="fetch"))
    if rows_matched(moved) != 1:
        raise DomainError("buy_is_closed", buy=brief(buy))


def _has_settled_lines(session: Session, buy_id: int) -> bool:
    return bool(session.execute(select(exists().where(
        col(Order.group_buy_id) == buy_id, col(Order.status).in_(SETTLED)))).scalar())
