"""Group buys: opening, joining without ever overselling, finding buys and lines.

Stock moves only through one conditional UPDATE (`allocated + n <= stock`), so concurrent
joins on SQLite (one writer) and on PostgreSQL (row lock, re-checked condition) never
oversell. Every order line carries the source message's key: a redelivery adds nothing.
A line's later status changes (promote, cancel, pay, deliver, refund) are in `orderlines`,
the roster's queries in `rosters`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlmodel import Session, col

from models.db import Statement, adopt, table_of
from models.orderlines import HOLDS_STOCK, serve_waitlist, touch_roster
from models.rules import groupbuy as rules
from models.rules.pricing import price_order
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order
from models.types import id_of

ACTIVE = HOLDS_STOCK
OPEN_LINES = (LineStatus.ALLOCATED, LineStatus.WAITLISTED, LineStatus.PAID)


# The '+1' path's statements, built once and run on the cursor (models.db.Statement).
_BUYS = table_of(GroupBuy)
_BUY_KEYS = [c.key for c in _BUYS.c]
_CURRENT = Statement(
    select(*_BUYS.c)
    .where(_BUYS.c.channel == bindparam("channel"), _BUYS.c.chat_id == bindparam("chat"),
           _BUYS.c.status == BuyStatus.OPEN)
    .order_by(_BUYS.c.id.desc()).limit(1)
)
_UNITS = Statement(select(func.coalesce(func.sum(col(Order.quantity)), 0)).where(
    col(Order.group_buy_id) == bindparam("buy"), col(Order.member_id) == bindparam("member"),
    or_(*(col(Order.status) == status for status in OPEN_LINES + (LineStatus.DELIVERED,))),
))  # (an IN list would be an expanding bind, which the cursor path does not take)
_TAKE = Statement(
    update(GroupBuy)
    .where(col(GroupBuy.id) == bindparam("buy"),
           or_(col(GroupBuy.stock).is_(None),
               col(GroupBuy.allocated) + bindparam("take") <= col(GroupBuy.stock)))
    .values(allocated=col(GroupBuy.allocated) + bindparam("take"), roster_rev=col(GroupBuy.roster_rev) + 1)
)
_STOCK = Statement(select(col(GroupBuy.allocated), col(GroupBuy.stock))
                   .where(col(GroupBuy.id) == bindparam("buy")))
_WAITING = Statement(select(col(Order.id)).where(col(Order.group_buy_id) == bindparam("buy"),
                                                 col(Order.status) == LineStatus.WAITLISTED).limit(1))
# the buy's row lock (PostgreSQL; SQLite has one writer), as orderlines.hold_buy takes it
_HOLD = Statement(select(_BUYS.c.id).where(_BUYS.c.id == bindparam("buy")).with_for_update())
_LINE_KEYS = [c.key for c in table_of(Order).c if c.key != "id"]
_ADD_LINE = Statement(insert(table_of(Order)).values({k: bindparam(k) for k in _LINE_KEYS})
                      .returning(table_of(Order).c.id))
_NEW_LINE = {"coupon_id": None, "coupon_discount": 0, "points_used": 0, "points_value": 0,
             "paid_at": None, "delivered_at": None, "cancelled_at": None, "replenish_on": None,
             "picked_up_at": None, "closed_out": False}


@dataclass
class Joined:
    allocated: int = 0
    waitlisted: int = 0
    duplicate: bool = False
    orders: list[Order] = field(default_factory=list)
    held: int = 0  # what the member holds in the buy with this join


def open_buy(session: Session, **values: Any) -> GroupBuy:
    community_id = values["community_id"]
    number = session.execute(
        select(func.coalesce(func.max(col(GroupBuy.number)), 0))
        .where(col(GroupBuy.community_id) == community_id)
    ).scalar_one() + 1
    buy = GroupBuy(number=number, **values)
    session.add(buy)
    session.flush()
    return buy


def current(session: Session, channel: str, chat_id: str, number: int | None = None,
            community_id: int | None = None, any_status: bool = False) -> GroupBuy | None:
    """The chat's latest open group buy, or the one with this number.

    `any_status`: the chat's latest group buy even when it is closed (for the leader's
    /delivered, /export … after /close, and to tell a late '+1' that it is closed).
    """
    if number is None and not any_status:  # the '+1' path: on the cursor, after a flush
        session.flush()  # (an ORM query would autoflush: the cursor sees what is written)
        row = _CURRENT.run(session, {"channel": channel, "chat": chat_id}).first()
        return None if row is None else adopt(session, GroupBuy, dict(zip(_BUY_KEYS, row, strict=True)))
    query = select(GroupBuy)
    if number is not None and community_id is not None:
        query = query.where(col(GroupBuy.community_id) == community_id, col(GroupBuy.number) == number)
    else:
        query = query.where(col(GroupBuy.channel) == channel, col(GroupBuy.chat_id) == chat_id)
        if not any_status:
            query = query.where(col(GroupBuy.status) == BuyStatus.OPEN)
        query = query.order_by(col(GroupBuy.id).desc()).limit(1)
    return session.execute(query).scalars().first()


def units_of(session: Session, buy_id: int, member_id: int) -> int:
    row = _UNITS.run(session, {"buy": buy_id, "member": member_id}).first()
    return int(row[0]) if row else 0


def _take_stock(session: Session, buy: GroupBuy, wanted: int) -> int:
    """Atomically take up to `wanted` units (and bump the roster); how many were taken.

    The conditional UPDATE is the guard: on PostgreSQL a concurrent taker waits for the
    row lock and the condition is checked again; SQLite has one writer at a time.
    """
    for _ in range(5):
        allocated, stock = _STOCK.run(session, {"buy": buy.id}).first() or (0, 0)
        take = rules.split(wanted, None if stock is None else stock - allocated).allocated
        if take == 0:
            return 0
        if _TAKE.run(session, {"buy": buy.id, "take": take}).rowcount == 1:
            return take
    return 0


def _line(buy: GroupBuy, member_id: int, quantity: int, status: str, key: str,
          discount_pct: int, now: datetime, price_unit: int = 1) -> Order:
    cost = price_order(buy.price, quantity, discount_pct, price_unit=price_unit)
    return Order(
        group_buy_id=id_of(buy), member_id=member_id, quantity=quantity, status=status,  # type: ignore[arg-type]
        source_key=key[:160], unit_price=buy.price, list_price=cost.list_price,
        tier_discount=cost.tier_discount, net=cost.net, created_at=now,
    )


def _add_line(session: Session, buy: GroupBuy, member_id: int, quantity: int, status: str,
              key: str, discount_pct: int, now: datetime, price_unit: int) -> Order:
    """One INSERT on the cursor (a second line for the same source key raises IntegrityError,
    as a flush would); the line as a persistent instance of the session."""
    cost = price_order(buy.price, quantity, discount_pct, price_unit=price_unit)
    values: dict[str, Any] = {
        **_NEW_LINE, "group_buy_id": id_of(buy), "member_id": member_id, "quantity": quantity,
        "status": LineStatus(status), "source_key": key[:160], "unit_price": buy.price,
        "list_price": cost.list_price, "tier_discount": cost.tier_discount, "net": cost.net,
        "created_at": now}
    row = _ADD_LINE.run(session, values).first()
    assert row is not None  # INSERT … RETURNING
    return adopt(session, Order, {"id": row[0], **values})


def join(session: Session, buy: GroupBuy, member: Member, quantity: int, source_key: str,
         discount_pct: int, now: datetime, price_unit: int = 1) -> Joined:
    """Allocate what stock allows and waitlist the rest, as one or two order lines.

    Nobody jumps the queue: while anyone waits, a new request waits behind them and the
    queue is served in order. The inbox already stops a redelivered message; the unique
    source key is the backstop.
    """
    _HOLD.run(session, {"buy": id_of(buy)}).first()  # held already by join_buy: at once
    queue = _WAITING.run(session, {"buy": buy.id}).first() is not None
    taken = 0 if queue else _take_stock(session, buy, quantity)
    result = Joined(allocated=taken, waitlisted=quantity - taken)
    if taken:
        result.orders.append(_add_line(session, buy, id_of(member), taken, LineStatus.ALLOCATED,
                                       source_key, discount_pct, now, price_unit))
    if quantity - taken:
        key = source_key if not taken else f"{source_key}:w"
        result.orders.append(_add_line(session, buy, id_of(member), quantity - taken,
                                       LineStatus.WAITLISTED, key, discount_pct, now, price_unit))
    if not taken:
        touch_roster(session, id_of(buy))
    if queue and result.orders[-1] in serve_waitlist(session, id_of(buy)):
        result.allocated, result.waitlisted = quantity, 0
    return result


def lines_of(session: Session, buy_id: int, member_id: int, statuses: tuple[LineStatus, ...]) -> list[Order]:
    return list(session.execute(
        select(Order).where(col(Order.group_buy_id) == buy_id, col(Order.member_id) == member_id,
                            col(Order.status).in_(statuses))
        .order_by(col(Order.id).desc())
    ).scalars())


def member_orders(session: Session, member_id: int, limit: int = 15) -> list[tuple[Order, GroupBuy]]:
    rows = session.execute(
        select(Order, GroupBuy).join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
        .where(col(Order.member_id) == member_id)
        .order_by(col(Order.id).desc()).limit(limit)
    ).all()
    return [(o, b) for o, b in rows]


def buy_orders(session: Session, buy_id: int, statuses: tuple[LineStatus, ...] | None = None
               ) -> list[tuple[Order, Member]]:
    query = (select(Order, Member).join(Member, col(Member.id) == col(Order.member_id))
             .where(col(Order.group_buy_id) == buy_id).order_by(col(Order.id)))
    if statuses:
        query = query.where(col(Order.status).in_(statuses))
    return [(o, m) for o, m in session.execute(query).all()]


def imported_line(session: Session, buy: GroupBuy, member: Member, quantity: int, key: str,
                  now: datetime, status: str = LineStatus.ALLOCATED) -> Order:
    """An order line from another tool: list price, no tier discount, stock counted while active.

    A line imported as cancelled holds no stock: `allocated` stays the sum of active lines.
    """
    order = _line(buy, id_of(member), quantity, status, key, 100, now)
    if status == "paid":
        order.paid_at = now
    elif status == "cancelled":
        order.cancelled_at = now
    session.add(order)
    if status in ACTIVE:
        session.execute(update(GroupBuy).where(col(GroupBuy.id) == buy.id)
                        .values(allocated=col(GroupBuy.allocated) + quantity)
                        .execution_options(synchronize_session=False))
    session.flush()
    return order


def latest_number_of(session: Session, member_id: int) -> int | None:
    """In private, '/cancel' or '/usepoints' mean the open group buy the member joined last."""
    return session.execute(
        select(col(GroupBuy.number)).join(Order, col(Order.group_buy_id) == col(GroupBuy.id))
        .where(col(Order.member_id) == member_id, col(GroupBuy.status) == BuyStatus.OPEN,
               col(Order.status).in_(OPEN_LINES))
        .order_by(col(Order.id).desc()).limit(1)
    ).scalar()


def unsettled_in_chat(session: Session, channel: str, chat_id: str,
                      statuses: tuple[LineStatus, ...] = OPEN_LINES) -> list[GroupBuy]:
    """This chat's group buys with lines in `statuses` (by default: not yet settled)."""
    unsettled = select(col(Order.group_buy_id)).where(
        col(Order.status).in_(statuses))
    return list(session.execute(
        select(GroupBuy).where(
            col(GroupBuy.channel) == channel, col(GroupBuy.chat_id) == chat_id,
            col(GroupBuy.id).in_(unsettled))
        .order_by(col(GroupBuy.number).desc())
    ).scalars())


def member_latest_in_chat(session: Session, channel: str, chat_id: str, member_id: int,
                          statuses: tuple[LineStatus, ...]) -> GroupBuy | None:
    """The group buy of this chat in which the member's newest line has one of `statuses`."""
    return session.execute(
        select(GroupBuy).join(Order, col(Order.group_buy_id) == col(GroupBuy.id))
        .where(col(GroupBuy.channel) == channel, col(GroupBuy.chat_id) == chat_id,
               col(Order.member_id) == member_id, col(Order.status).in_(statuses))
        .order_by(col(Order.id).desc()).limit(1)
    ).scalars().first()


def buys_of_orders(session: Session, community_id: int, order_ids: set[int]) -> list[GroupBuy]:
    return list(session.execute(
        select(GroupBuy).join(Order, col(Order.group_buy_id) == col(GroupBuy.id))
        .where(col(GroupBuy.community_id) == community_id, col(Order.id).in_(order_ids))
        .distinct()
    ).scalars())


def hold_for_join(session: Session, buy_id: int) -> None:
    """Hold the buy (PostgreSQL row lock; SQLite has one writer anyway) before reading what a
    join decides on: the member's units (two '+N' sent at the same instant cannot both pass
    the per-member limit), the queue and the free stock (a cancel freeing a unit finishes
    first, so the join sees it)."""
    _HOLD.run(session, {"buy": buy_id}).first()


def by_number(session: Session, community_id: int, number: int) -> GroupBuy | None:
    return session.execute(select(GroupBuy).where(
        col(GroupBuy.community_id) == community_id, col(GroupBuy.number) == number)).scalars().first()


def choices(session: Session, community_id: int, chat: tuple[str, str] | None,
            statuses: tuple[BuyStatus, ...], lines: tuple[LineStatus, ...] | None = None,
            limit: int = 8) -> list[GroupBuy]:
    """The buys a leader may mean: of this chat (`(channel, chat_id)`; None: the whole
    community), in `statuses`, and, given `lines`, with a line in one of them; newest first."""
    query = select(GroupBuy).where(col(GroupBuy.community_id) == community_id,
                                   col(GroupBuy.status).in_(statuses))
    if chat is not None:
        query = query.where(col(GroupBuy.channel) == chat[0], col(GroupBuy.chat_id) == chat[1])
    if lines is not None:
        query = query.where(col(GroupBuy.id).in_(
            select(col(Order.group_buy_id)).where(col(Order.status).in_(lines))))
    return list(session.execute(query.order_by(col(GroupBuy.number).desc()).limit(limit)).scalars())
