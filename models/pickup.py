"""Payment and pickup: who has not paid, the goods' arrival (where, until when), picking up.

Arrival belongs to the buy (`arrived_at`, `pickup_place`, `pickup_until`, set once, only on a
closed buy); picking up to the line (`picked_up_at`, set only on a delivered line). A line
still waiting for its member is one that holds stock undelivered: allocated or paid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlmodel import Session, col

from models import marking
from models.programme import Programme
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order
from models.types import id_of, rows_matched

WAITING = (LineStatus.ALLOCATED, LineStatus.PAID)  # held for the member, not yet in their hands


@dataclass
class Owed:
    """One member's unpaid (allocated) lines in one buy."""

    buy: GroupBuy
    member: Member
    units: int = 0
    amount: int = 0
    orders: list[Order] = field(default_factory=list)


@dataclass
class Picked:
    buy: GroupBuy
    member: Member
    marks: list[marking.Mark] = field(default_factory=list)  # lines delivered by the pickup
    lines: int = 0  # lines stamped picked up
    units: int = 0


def _owed(rows: Iterable[tuple[Order, GroupBuy, Member]]) -> list[Owed]:
    """Lines summed per buy and member, in the order of their first line."""
    grouped: dict[tuple[int, int], Owed] = {}
    for order, buy, member in rows:
        owed = grouped.setdefault((id_of(buy), id_of(member)), Owed(buy, member))
        owed.units += order.quantity
        owed.amount += order.net
        owed.orders.append(order)
    return list(grouped.values())


def _lines(session: Session, *where: ColumnElement[bool]) -> list[tuple[Order, GroupBuy, Member]]:
    rows = session.execute(
        select(Order, GroupBuy, Member)
        .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
        .join(Member, col(Member.id) == col(Order.member_id))
        .where(*where).order_by(col(GroupBuy.id), col(Order.id))
    ).all()
    return [(o, b, m) for o, b, m in rows]


def unpaid(session: Session, buy_id: int) -> list[Owed]:
    """Who owes what in this buy (open or closed): allocated lines, summed per member."""
    return _owed(_lines(session, col(Order.group_buy_id) == buy_id,
                        col(Order.status) == LineStatus.ALLOCATED))


def buys_with_lines(session: Session, community_id: int, statuses: tuple[LineStatus, ...], *,
                    chat: tuple[str, str] | None = None, member_id: int | None = None,
                    buy_where: tuple[ColumnElement[bool], ...] = (),
                    line_where: tuple[ColumnElement[bool], ...] = ()) -> list[GroupBuy]:
    """The community's buys (of one chat, if given) with lines in `statuses` (of one member,
    if given), newest first: the candidates when a command names no buy."""
    lines = select(col(Order.id)).where(col(Order.group_buy_id) == col(GroupBuy.id),
                                        col(Order.status).in_(statuses), *line_where)
    if member_id is not None:
        lines = lines.where(col(Order.member_id) == member_id)
    query = select(GroupBuy).where(col(GroupBuy.community_id) == community_id, exists(lines),
                                   *buy_where)
    if chat is not None:
        query = query.where(col(GroupBuy.channel) == chat[0], col(GroupBuy.chat_id) == chat[1])
    return list(session.execute(query.order_by(col(GroupBuy.number).desc()).limit(10)).scalars())


NOT_ARRIVED = (col(GroupBuy.status) == BuyStatus.CLOSED, col(GroupBuy.arrived_at).is_(None))
ARRIVED = (col(GroupBuy.arrived_at).is_not(None),)


def announce_arrival(session: Session, buy_id: int, *, place: str, until: datetime,
                     now: datetime) -> bool:
    """The goods of a closed buy arrived: where and until when; False when the buy is not
    closed or its arrival was already announced (the first announcement stands)."""
    done = session.execute(
        update(GroupBuy).where(col(GroupBuy.id) == buy_id, *NOT_ARRIVED)
        .values(arrived_at=now, pickup_place=place, pickup_until=until)
        .execution_options(synchronize_session="fetch"))
    return rows_matched(done) == 1


def waiting_members(session: Session, buy_id: int) -> list[Owed]:
    """Members whose goods in this buy are still to be handed over, with their units."""
    return _owed(_lines(session, col(Order.group_buy_id) == buy_id,
                        col(Order.status).in_(WAITING)))


def pick_up(session: Session, *, buy: GroupBuy, member: Member, programme: Programme,
            today: date, now: datetime) -> Picked:
    """The member took their goods: lines still waiting in an arrived buy are delivered (and
    earn what a delivery earns); every delivered line not yet picked up is stamped."""
    picked = Picked(buy, member)
    if buy.arrived_at is not None:
        lines = [(o, member) for o, _, _ in _lines(
            session, col(Order.group_buy_id) == buy.id, col(Order.member_id) == member.id,
            col(Order.status).in_(WAITING))]
        picked.marks = marking.mark_lines(session, buy=buy, action="delivered", lines=lines,
                                          programme=programme, today=today, now=now).marked
    stamped = session.execute(
        update(Order).where(col(Order.group_buy_id) == buy.id, col(Order.member_id) == member.id,
                            col(Order.status) == LineStatus.DELIVERED,
                            col(Order.picked_up_at).is_(None))
        .values(picked_up_at=now).returning(col(Order.quantity))
        .execution_options(synchronize_session="fetch")).all()
    picked.lines, picked.units = len(stamped), sum(int(q) for (q,) in stamped)
    return picked


def pickable_buys(session: Session, community_id: int, member_id: int,
                 chat: tuple[str, str] | None) -> list[GroupBuy]:
    """Buys in which `/picked` can close something for this member: a delivered line not yet
    picked up, or a waiting line in a buy whose goods arrived."""
    found = {id_of(b): b for b in buys_with_lines(
        session, community_id, WAITING, chat=chat, member_id=member_id, buy_where=ARRIVED)}
    for buy in buys_with_lines(session, community_id, (LineStatus.DELIVERED,), chat=chat,
                               member_id=member_id, line_where=(col(Order.picked_up_at).is_(None),)):
        found.setdefault(id_of(buy), buy)
    return sorted(found.values(), key=lambda b: -b.number)


def due_payments(session: Session, community_id: int, closed_since: datetime) -> list[Owed]:
    """Unpaid lines of the community's closed buys closed since `closed_since`, per member."""
    closed = func.coalesce(col(GroupBuy.closed_at), col(GroupBuy.deadline))
    return _owed(_lines(session, col(GroupBuy.community_id) == community_id,
                        col(GroupBuy.status) == BuyStatus.CLOSED, closed >= closed_since,
                        col(Order.status) == LineStatus.ALLOCATED,
                        col(Member.merged_into_id).is_(None)))


def due_pickups(session: Session, community_id: int, now: datetime,
                ends_before: datetime) -> list[Owed]:
    """Members still to pick up in buys whose pickup window ends after now, before
    `ends_before`."""
    return _owed(_lines(session, col(GroupBuy.community_id) == community_id, *ARRIVED,
                        col(GroupBuy.pickup_until) > now, col(GroupBuy.pickup_until) <= ends_before,
                        col(Order.status).in_(WAITING), col(Member.merged_into_id).is_(None)))
