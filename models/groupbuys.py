"""Group buys: opening, finding buys and lines.

Joining (stock moves only through one conditional UPDATE, so concurrent joins never
oversell) is in `joining`, re-exported here; a line's later status changes (promote, cancel,
pay, deliver, refund) are in `orderlines`, the roster's queries in `rosters`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session, col

from models.db import Statement, adopt, table_of
from models.joining import Joined as Joined  # re-exported: a join is made in joining
from models.joining import join as join
from models.orderlines import HOLDS_STOCK
from models.rules.pricing import price_order
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order
from models.types import id_of

ACTIVE = HOLDS_STOCK
OPEN_LINES = (LineStatus.ALLOCATED, LineStatus.WAITLISTED, LineStatus.PAID)


# the chat's open buy for other commands than '+1' (models.joining holds it for a join)
_BUYS = table_of(GroupBuy)
_BUY_KEYS = [c.key for c in _BUYS.c]
_CURRENT = Statement(
    select(*_BUYS.c)
    .where(_BUYS.c.channel == bindparam("channel"), _BUYS.c.chat_id == bindparam("chat"),
           _BUYS.c.status == BuyStatus.OPEN)
    .order_by(_BUYS.c.id.desc()).limit(1)
)


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


def _line(buy: GroupBuy, member_id: int, quantity: int, status: str, key: str,
          discount_pct: int, now: datetime, price_unit: int = 1) -> Order:
    cost = price_order(buy.price, quantity, discount_pct, price_unit=price_unit)
    return Order(
        group_buy_id=id_of(buy), member_id=member_id, quantity=quantity, status=status,  # type: ignore[arg-type]
        source_key=key[:160], unit_price=buy.price, list_price=cost.list_price,
        tier_discount=cost.tier_discount, net=cost.net, created_at=now,
    )


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
