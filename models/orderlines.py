"""An order line changes status only here, and each change is one conditional UPDATE.

Every operation names the status it expects in the statement that writes the new one
(`UPDATE order SET status='allocated' WHERE id=:id AND status='waitlisted'`); the stock
counter moves only when that statement changed a row, in the same transaction. The loser of
a race changes nothing and hears so: None or False, never a second decrement.

Lock order: each operation first holds the buy's row (bumping its roster revision where the
roster changes, else SELECT … FOR UPDATE) on PostgreSQL; then lines, then members (the
ledger). Changes in one buy therefore queue up in one order and cannot deadlock; SQLite has
one writer, and no FOR UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, literal, or_, select, update
from sqlmodel import Session, col

from models.tables import BuyStatus, GroupBuy, LineStatus, Order
from models.types import rows_matched

HOLDS_STOCK = (LineStatus.ALLOCATED, LineStatus.PAID, LineStatus.DELIVERED)
CANCELLABLE = (LineStatus.ALLOCATED, LineStatus.WAITLISTED, LineStatus.PAID)

_TOUCH = update(GroupBuy).where(col(GroupBuy.id) == bindparam("buy")).values(
    roster_rev=col(GroupBuy.roster_rev) + 1)
_HOLD = select(col(GroupBuy.id)).where(col(GroupBuy.id) == bindparam("buy")).with_for_update()
_STOCK = select(col(GroupBuy.allocated), col(GroupBuy.stock)).where(col(GroupBuy.id) == bindparam("buy"))
_TAKE = update(GroupBuy).where(
    col(GroupBuy.id) == bindparam("buy"),
    or_(col(GroupBuy.stock).is_(None),
        col(GroupBuy.allocated) + bindparam("units") <= col(GroupBuy.stock)),
).values(allocated=col(GroupBuy.allocated) + bindparam("units"))
_GIVE_BACK = update(GroupBuy).where(
    col(GroupBuy.id) == bindparam("buy"), col(GroupBuy.allocated) >= bindparam("units"),
).values(allocated=col(GroupBuy.allocated) - bindparam("units"))
_FITS = select(literal(1)).where(
    col(GroupBuy.id) == bindparam("buy"),
    or_(col(GroupBuy.stock).is_(None), col(GroupBuy.allocated) + col(Order.quantity) <= col(GroupBuy.stock)),
).correlate(Order).exists()  # the line's own quantity still fits the free stock


class StockMismatch(RuntimeError):
    """The counter refused a move its line already made: the transaction must not commit."""


@dataclass
class Released:
    """A line that left the stock (or the waitlist), and the waiting lines it let in."""

    was: str
    quantity: int
    promoted: list[Order] = field(default_factory=list)


def touch_roster(session: Session, buy_id: int) -> None:
    """Bump the roster revision; as the first write of a change it holds the buy for it."""
    session.connection().execute(_TOUCH, {"buy": buy_id})


def hold_buy(session: Session, buy_id: int) -> None:
    """Take the buy's row lock (PostgreSQL) for a change that leaves the roster as it is."""
    session.connection().execute(_HOLD, {"buy": buy_id})


def _move(session: Session, order_id: int, expected: tuple[LineStatus, ...], status: str,
          **values: Any) -> int | None:
    """The one conditional UPDATE: the line's quantity, or None when it was not in `expected`."""
    row = session.execute(
        update(Order).where(col(Order.id) == order_id, col(Order.status).in_(expected))
        .values(status=status, **values).returning(col(Order.quantity))
        .execution_options(synchronize_session="fetch")
    ).first()
    return None if row is None else int(row[0])


def _counter(session: Session, statement: Any, buy_id: int, units: int) -> None:
    if session.connection().execute(statement, {"buy": buy_id, "units": units}).rowcount != 1:
        raise StockMismatch(f"group buy {buy_id}: the stock counter cannot move by {units}")


def status_of(session: Session, order_id: int) -> LineStatus | None:
    return session.execute(select(col(Order.status)).where(col(Order.id) == order_id)).scalar()


def promote_line(session: Session, buy_id: int, order_id: int) -> Order | None:
    """A waiting line takes stock, if it is still waiting and still fits; else None.

    The caller holds the buy (`touch_roster` first), as `serve_waitlist` does.
    """
    row = session.execute(
        update(Order).where(col(Order.id) == order_id, col(Order.status) == LineStatus.WAITLISTED, _FITS)
        .values(status=LineStatus.ALLOCATED).returning(col(Order.quantity))
        .execution_options(synchronize_session="fetch"),
        {"buy": buy_id},
    ).first()
    if row is None:
        return None
    _counter(session, _TAKE, buy_id, int(row[0]))
    return session.get(Order, order_id)


def serve_waitlist(session: Session, buy_id: int) -> list[Order]:
    """Waiting lines, oldest first, get free stock; a line too big for what is free keeps its
    place while smaller ones behind it are served. Returns the promoted lines."""
    touch_roster(session, buy_id)
    allocated, stock = session.connection().execute(_STOCK, {"buy": buy_id}).one()
    free = None if stock is None else stock - allocated
    if free is not None and free <= 0:
        return []  # nothing free: the queue stays as it is (no need to read it)
    query = select(col(Order.id), col(Order.quantity)).where(
        col(Order.group_buy_id) == buy_id, col(Order.status) == LineStatus.WAITLISTED)
    if free is not None:  # free only shrinks below: a bigger line is skipped anyway
        query = query.where(col(Order.quantity) <= free)
    waiting = session.execute(query.order_by(col(Order.id))).all()
    promoted: list[Order] = []
    for order_id, quantity in waiting:
        if free is not None and quantity > free:
            continue
        line = promote_line(session, buy_id, order_id)
        if line is not None:
            promoted.append(line)
            free = None if free is None else free - quantity
    return promoted


def _release(session: Session, buy_id: int, order_id: int, expected: tuple[LineStatus, ...],
             status: str, **values: Any) -> Released | None:
    """Move a line out of `expected`; if it held stock, the units go to the waitlist in order.

    The status is read, then written on the condition that it is still what was read; a line
    moved meanwhile is read again (bounded), a line no longer in `expected` changes nothing.
    """
    touch_roster(session, buy_id)
    for _ in range(3):
        was = status_of(session, order_id)
        if was not in expected:
            return None
        quantity = _move(session, order_id, (was,), status, **values)
        if quantity is None:
            continue
        released = Released(was=was, quantity=quantity)
        if was in HOLDS_STOCK:
            _counter(session, _GIVE_BACK, buy_id, quantity)
            released.promoted = serve_waitlist(session, buy_id)
        return released
    return None


def cancel_line(session: Session, buy_id: int, order_id: int, *, now: datetime,
                expected: tuple[LineStatus, ...] = CANCELLABLE) -> Released | None:
    """Cancel a line that is still in one of `expected`; None when it no longer is."""
    return _release(session, buy_id, order_id, expected, LineStatus.CANCELLED, cancelled_at=now)


def refund_line(session: Session, buy_id: int, order_id: int, *, now: datetime) -> Released | None:
    """A delivered line becomes refunded (its units go back); None when it is not delivered."""
    return _release(session, buy_id, order_id, (LineStatus.DELIVERED,), LineStatus.REFUNDED, cancelled_at=now,
                    replenish_on=None)


def mark_paid(session: Session, buy_id: int, order_id: int, *, now: datetime) -> bool:
    """An allocated line is paid; False when it no longer is allocated."""
    hold_buy(session, buy_id)
    return _move(session, order_id, (LineStatus.ALLOCATED,), LineStatus.PAID, paid_at=now) is not None


def mark_delivered(session: Session, buy_id: int, order_id: int, *, now: datetime,
                   replenish_on: date | None) -> bool:
    """An allocated or paid line is delivered; False when it is neither any more."""
    hold_buy(session, buy_id)
    return _move(session, order_id, (LineStatus.ALLOCATED, LineStatus.PAID), LineStatus.DELIVERED,
                 delivered_at=now, replenish_on=replenish_on) is not None


def close_buy(session: Session, buy_id: int, *, now: datetime) -> list[Order] | None:
    """Close the buy and end its waitlist; returns the waiting lines that were cancelled.
    None when the buy was not open (closed a moment ago: a double tap)."""
    closing = session.execute(update(GroupBuy).where(col(GroupBuy.id) == buy_id,
                                                     col(GroupBuy.status) == BuyStatus.OPEN)
                              .values(status=BuyStatus.CLOSED, closed_at=now,
                                       roster_rev=col(GroupBuy.roster_rev) + 1)
                              .execution_options(synchronize_session="fetch"))
    if rows_matched(closing) != 1:
        return None
    waiting = session.execute(
        select(col(Order.id))
        .where(col(Order.group_buy_id) == buy_id, col(Order.status) == LineStatus.WAITLISTED)
        .order_by(col(Order.id))
    ).scalars().all()
    ended = [order_id for order_id in waiting
             if _release(session, buy_id, order_id, (LineStatus.WAITLISTED,), LineStatus.CANCELLED,
                         cancelled_at=now, closed_out=True)]
    return [line for line in (session.get(Order, order_id) for order_id in ended) if line]


def shorten_line(session: Session, buy_id: int, order: Order, *, by: int,
                 **prices: Any) -> list[Order] | None:
    """Take `by` units off a line still as read (status, quantity, points, coupon), with its
    new prices, in one conditional UPDATE; if it holds stock the units go back and serve the
    waitlist in order. The promoted lines, or None when the line changed meanwhile."""
    touch_roster(session, buy_id)
    coupon_now = (col(Order.coupon_id).is_(None) if order.coupon_id is None
                  else col(Order.coupon_id) == order.coupon_id)
    done = session.execute(
        update(Order).where(col(Order.id) == order.id, col(Order.status) == order.status,
                            col(Order.quantity) == order.quantity, col(Order.quantity) > by,
                            col(Order.points_used) == order.points_used, coupon_now)
        .values(quantity=col(Order.quantity) - by, **prices)
        .execution_options(synchronize_session="fetch"))
    if rows_matched(done) != 1:
        return None
    if order.status not in HOLDS_STOCK:
        return []
    _counter(session, _GIVE_BACK, buy_id, by)
    return serve_waitlist(session, buy_id)
