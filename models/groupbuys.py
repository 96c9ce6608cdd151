"""Group buys: opening, joining without ever overselling, finding buys, lines and rosters.

Stock moves only through one conditional UPDATE (`allocated + n <= stock`), so concurrent
joins on SQLite (one writer) and on PostgreSQL (row lock, re-checked condition) never
oversell. Every order line carries the source message's key: a redelivery adds nothing.
A line's later status changes (promote, cancel, pay, deliver, refund) are in `orderlines`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlmodel import Session

from models.orderlines import HOLDS_STOCK, hold_buy, serve_waitlist, touch_roster
from models.rules import groupbuy as rules
from models.rules.pricing import price_order
from models.tables import GroupBuy, Member, Order

ACTIVE = HOLDS_STOCK
OPEN_LINES = ("allocated", "waitlisted", "paid")


_CURRENT = (
    select(GroupBuy)
    .where(GroupBuy.channel == bindparam("channel"), GroupBuy.chat_id == bindparam("chat"),
           GroupBuy.status == "open")
    .order_by(GroupBuy.id.desc()).limit(1)  # type: ignore[union-attr]
)
_UNITS = select(func.coalesce(func.sum(Order.quantity), 0)).where(
    Order.group_buy_id == bindparam("buy"), Order.member_id == bindparam("member"),
    Order.status.in_(OPEN_LINES + ("delivered",)),  # type: ignore[attr-defined]
)
_TAKE = (
    update(GroupBuy)
    .where(GroupBuy.id == bindparam("buy"),
           or_(GroupBuy.stock.is_(None),  # type: ignore[union-attr]
               GroupBuy.allocated + bindparam("take") <= GroupBuy.stock))  # type: ignore[operator]
    .values(allocated=GroupBuy.allocated + bindparam("take"), roster_rev=GroupBuy.roster_rev + 1)
)
_STOCK = select(GroupBuy.allocated, GroupBuy.stock).where(GroupBuy.id == bindparam("buy"))
_WAITING = select(Order.id).where(Order.group_buy_id == bindparam("buy"),
                                  Order.status == "waitlisted").limit(1)


@dataclass
class Joined:
    allocated: int = 0
    waitlisted: int = 0
    duplicate: bool = False
    orders: list[Order] = field(default_factory=list)


def open_buy(session: Session, **values: object) -> GroupBuy:
    community_id = values["community_id"]
    number = session.execute(
        select(func.coalesce(func.max(GroupBuy.number), 0)).where(GroupBuy.community_id == community_id)
    ).scalar_one() + 1
    buy = GroupBuy(number=number, **values)  # type: ignore[arg-type]
    session.add(buy)
    session.flush()
    return buy


def current(session: Session, channel: str, chat_id: str, number: int | None = None,
            community_id: int | None = None, any_status: bool = False) -> GroupBuy | None:
    """The chat's latest open group buy, or the one with this number.

    `any_status`: the chat's latest group buy even when it is closed (for the leader's
    /delivered, /export … after /close, and to tell a late '+1' that it is closed).
    """
    if number is None and not any_status:  # the '+1' path: the statement built once
        return session.execute(_CURRENT, {"channel": channel, "chat": chat_id}).scalars().first()
    query = select(GroupBuy)
    if number is not None and community_id is not None:
        query = query.where(GroupBuy.community_id == community_id, GroupBuy.number == number)
    else:
        query = query.where(GroupBuy.channel == channel, GroupBuy.chat_id == chat_id)
        if not any_status:
            query = query.where(GroupBuy.status == "open")
        query = query.order_by(GroupBuy.id.desc()).limit(1)  # type: ignore[union-attr]
    return session.execute(query).scalars().first()


def units_of(session: Session, buy_id: int, member_id: int) -> int:
    return int(session.connection().execute(_UNITS, {"buy": buy_id, "member": member_id}).scalar_one())


def _take_stock(session: Session, buy: GroupBuy, wanted: int) -> int:
    """Atomically take up to `wanted` units (and bump the roster); how many were taken.

    The conditional UPDATE is the guard: on PostgreSQL a concurrent taker waits for the
    row lock and the condition is checked again; SQLite has one writer at a time.
    """
    connection = session.connection()
    for _ in range(5):
        allocated, stock = connection.execute(_STOCK, {"buy": buy.id}).one()
        take = rules.split(wanted, None if stock is None else stock - allocated).allocated
        if take == 0:
            return 0
        if connection.execute(_TAKE, {"buy": buy.id, "take": take}).rowcount == 1:
            return take
    return 0


def _line(buy: GroupBuy, member_id: int, quantity: int, status: str, key: str,
          discount_pct: int, now: datetime, price_unit: int = 1) -> Order:
    cost = price_order(buy.price, quantity, discount_pct, price_unit=price_unit)
    return Order(
        group_buy_id=buy.id, member_id=member_id, quantity=quantity, status=status,  # type: ignore[arg-type]
        source_key=key[:160], unit_price=buy.price, list_price=cost.list_price,
        tier_discount=cost.tier_discount, net=cost.net, created_at=now,
    )


def join(session: Session, buy: GroupBuy, member: Member, quantity: int, source_key: str,
         discount_pct: int, now: datetime, price_unit: int = 1) -> Joined:
    """Allocate what stock allows and waitlist the rest, as one or two order lines.

    Nobody jumps the queue: while anyone waits, a new request waits behind them and the
    queue is served in order. The inbox already stops a redelivered message; the unique
    source key is the backstop.
    """
    hold_buy(session, buy.id)  # type: ignore[arg-type]
    queue = session.connection().execute(_WAITING, {"buy": buy.id}).first() is not None
    taken = 0 if queue else _take_stock(session, buy, quantity)
    result = Joined(allocated=taken, waitlisted=quantity - taken)
    if taken:
        result.orders.append(_line(buy, member.id, taken, "allocated", source_key,  # type: ignore[arg-type]
                                   discount_pct, now, price_unit))
    if quantity - taken:
        key = source_key if not taken else f"{source_key}:w"
        result.orders.append(
            _line(buy, member.id, quantity - taken, "waitlisted", key,  # type: ignore[arg-type]
                  discount_pct, now, price_unit)
        )
    session.add_all(result.orders)
    if not taken:
        touch_roster(session, buy.id)  # type: ignore[arg-type]
    session.flush()
    if queue and result.orders[-1] in serve_waitlist(session, buy.id):  # type: ignore[arg-type]
        result.allocated, result.waitlisted = quantity, 0
    return result


def lines_of(session: Session, buy_id: int, member_id: int, statuses: tuple[str, ...]) -> list[Order]:
    return list(session.execute(
        select(Order).where(Order.group_buy_id == buy_id, Order.member_id == member_id,
                            Order.status.in_(statuses))  # type: ignore[attr-defined]
        .order_by(Order.id.desc())  # type: ignore[union-attr]
    ).scalars())


def member_orders(session: Session, member_id: int, limit: int = 15) -> list[tuple[Order, GroupBuy]]:
    rows = session.execute(
        select(Order, GroupBuy).join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .where(Order.member_id == member_id)
        .order_by(Order.id.desc()).limit(limit)  # type: ignore[union-attr]
    ).all()
    return [(o, b) for o, b in rows]


def buy_orders(session: Session, buy_id: int, statuses: tuple[str, ...] | None = None
               ) -> list[tuple[Order, Member]]:
    query = (select(Order, Member).join(Member, Member.id == Order.member_id)
             .where(Order.group_buy_id == buy_id).order_by(Order.id))
    if statuses:
        query = query.where(Order.status.in_(statuses))  # type: ignore[attr-defined]
    return [(o, m) for o, m in session.execute(query).all()]


def roster(session: Session, buy_id: int, limit: int = 40) -> tuple[list[tuple[str, int]], int, int]:
    """(name, units) of the first `limit` allocated members, how many members, waiting units."""
    rows = session.execute(
        select(Member.display_name, func.sum(Order.quantity), func.min(Order.id))
        .join(Member, Member.id == Order.member_id)
        .where(Order.group_buy_id == buy_id, Order.status.in_(ACTIVE))  # type: ignore[attr-defined]
        .group_by(Member.id, Member.display_name).order_by(func.min(Order.id))
    ).all()
    waiting = session.execute(
        select(func.coalesce(func.sum(Order.quantity), 0))
        .where(Order.group_buy_id == buy_id, Order.status == "waitlisted")
    ).scalar_one()
    return [(name, int(units)) for name, units, _ in rows[:limit]], len(rows), int(waiting)


def due_rosters(session: Session, channel: str, before: datetime, limit: int = 20,
                now: datetime | None = None) -> list[GroupBuy]:
    """Group buys whose roster changed and was last published before `before`.

    With `now`, also an open group buy whose deadline passed since its roster was last
    published: once, so the group stops being asked to '+1' into a closed buy.
    """
    changed = GroupBuy.roster_rev > GroupBuy.roster_published_rev
    if now is not None:
        changed = or_(changed, and_(
            GroupBuy.status == "open", GroupBuy.deadline <= now,
            GroupBuy.roster_published_at.is_not(None),  # type: ignore[union-attr]
            GroupBuy.roster_published_at < GroupBuy.deadline,  # type: ignore[operator]
        ))
    return list(session.execute(
        select(GroupBuy).where(
            GroupBuy.channel == channel, changed,
            or_(GroupBuy.roster_published_at.is_(None), GroupBuy.roster_published_at <= before),  # type: ignore[union-attr]
        ).order_by(GroupBuy.id).limit(limit)
    ).scalars())


def imported_line(session: Session, buy: GroupBuy, member: Member, quantity: int, key: str,
                  now: datetime, status: str = "allocated") -> Order:
    """An order line from another tool: list price, no tier discount, stock counted while active.

    A line imported as cancelled holds no stock: `allocated` stays the sum of active lines.
    """
    order = _line(buy, member.id, quantity, status, key, 100, now)  # type: ignore[arg-type]
    if status == "paid":
        order.paid_at = now
    elif status == "cancelled":
        order.cancelled_at = now
    session.add(order)
    if status in ACTIVE:
        session.execute(update(GroupBuy).where(GroupBuy.id == buy.id)
                        .values(allocated=GroupBuy.allocated + quantity)
                        .execution_options(synchronize_session=False))
    session.flush()
    return order


def latest_number_of(session: Session, member_id: int) -> int | None:
    """In private, '/cancel' or '/usepoints' mean the open group buy the member joined last."""
    return session.execute(
        select(GroupBuy.number).join(Order, Order.group_buy_id == GroupBuy.id)
        .where(Order.member_id == member_id, GroupBuy.status == "open",
               Order.status.in_(OPEN_LINES))  # type: ignore[attr-defined]
        .order_by(Order.id.desc()).limit(1)  # type: ignore[union-attr]
    ).scalar()


def unsettled_in_chat(session: Session, channel: str, chat_id: str,
                      statuses: tuple[str, ...] = OPEN_LINES) -> list[GroupBuy]:
    """This chat's group buys with lines in `statuses` (by default: not yet settled)."""
    unsettled = select(Order.group_buy_id).where(
        Order.status.in_(statuses))  # type: ignore[attr-defined]
    return list(session.execute(
        select(GroupBuy).where(
            GroupBuy.channel == channel, GroupBuy.chat_id == chat_id,
            GroupBuy.id.in_(unsettled))  # type: ignore[union-attr]
        .order_by(GroupBuy.number.desc())
    ).scalars())


def member_latest_in_chat(session: Session, channel: str, chat_id: str, member_id: int,
                          statuses: tuple[str, ...]) -> GroupBuy | None:
    """The group buy of this chat in which the member's newest line has one of `statuses`."""
    return session.execute(
        select(GroupBuy).join(Order, Order.group_buy_id == GroupBuy.id)
        .where(GroupBuy.channel == channel, GroupBuy.chat_id == chat_id,
               Order.member_id == member_id, Order.status.in_(statuses))  # type: ignore[attr-defined]
        .order_by(Order.id.desc()).limit(1)  # type: ignore[union-attr]
    ).scalars().first()


def buys_of_orders(session: Session, community_id: int, order_ids: set[int]) -> list[GroupBuy]:
    return list(session.execute(
        select(GroupBuy).join(Order, Order.group_buy_id == GroupBuy.id)
        .where(GroupBuy.community_id == community_id, Order.id.in_(order_ids))  # type: ignore[union-attr]
        .distinct()
    ).scalars())


def hold_for_join(session: Session, buy_id: int) -> None:
    """Hold the buy (PostgreSQL row lock; SQLite has one writer anyway) before reading what a
    join decides on: the member's units (two '+N' sent at the same instant cannot both pass
    the per-member limit), the queue and the free stock (a cancel freeing a unit finishes
    first, so the join sees it)."""
    hold_buy(session, buy_id)
