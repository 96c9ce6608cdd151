"""'+N' in a group buy, without ever overselling: the hot path of a flood of joins.

A join holds the buy first (PostgreSQL row lock; SQLite has one writer): a '+1' in a group
by bumping the chat's open buy's roster revision, which returns the buy as it is once held
(`hold_chat_buy`); any other join by `hold`, which reads the free stock under the lock. Then
one statement reads what the member holds and whether anyone waits (`standing`), stock moves
through one conditional UPDATE (`allocated + n <= stock`) and the lines are inserted: four
statements for a '+1' that gets stock, three for one that waits, all on the cursor
(models.db.Statement). Every order line carries the source message's key: a redelivery adds
nothing. A line's later status changes (promote, cancel, pay…) are in `orderlines`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, or_, select, update
from sqlmodel import Session

from models.db import Runner, Statement, adopt, flush, session_of, table_of
from models.errors import NeedsSession
from models.orderlines import serve_waitlist, touch_roster
from models.rules import groupbuy as rules
from models.rules.pricing import price_order
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order
from models.types import id_of

# the units a member holds in a buy, for the per-member limit (a cancelled line holds none)
COUNTED = (LineStatus.ALLOCATED, LineStatus.WAITLISTED, LineStatus.PAID, LineStatus.DELIVERED)

_BUYS, _LINES = table_of(GroupBuy), table_of(Order)
_BUY_KEYS = [c.key for c in _BUYS.c]
_HOLD_CHAT = Statement(  # the chat's newest open buy, held (its first write) and read as held
    update(_BUYS).where(
        _BUYS.c.id == select(_BUYS.c.id).where(
            _BUYS.c.channel == bindparam("in_channel"), _BUYS.c.chat_id == bindparam("in_chat"),
            _BUYS.c.status == BuyStatus.OPEN).order_by(_BUYS.c.id.desc()).limit(1).scalar_subquery(),
        _BUYS.c.status == BuyStatus.OPEN)
    .values(roster_rev=_BUYS.c.roster_rev + 1).returning(*_BUYS.c))
_HOLD = Statement(select(_BUYS.c.allocated, _BUYS.c.stock).where(_BUYS.c.id == bindparam("buy"))
                  .with_for_update())
_STOCK = Statement(select(_BUYS.c.allocated, _BUYS.c.stock).where(_BUYS.c.id == bindparam("buy")))
_STANDING = Statement(select(
    select(func.coalesce(func.sum(_LINES.c.quantity), 0)).where(
        _LINES.c.group_buy_id == bindparam("buy"), _LINES.c.member_id == bindparam("member"),
        or_(*(_LINES.c.status == status for status in COUNTED))).scalar_subquery(),
    exists().where(_LINES.c.group_buy_id == bindparam("buy"),
                   _LINES.c.status == LineStatus.WAITLISTED),
))  # (an IN list would be an expanding bind, which the cursor path does not take)


def _taking(bump: bool) -> Statement:
    """The guard: take `take` units only while they fit (and bump the roster, unless the
    hold did). On PostgreSQL a concurrent taker waits for the row lock and the condition is
    checked again; SQLite has one writer at a time."""
    values: dict[str, Any] = {"allocated": _BUYS.c.allocated + bindparam("take")}
    if bump:
        values["roster_rev"] = _BUYS.c.roster_rev + 1
    return Statement(update(_BUYS).where(
        _BUYS.c.id == bindparam("buy"),
        or_(_BUYS.c.stock.is_(None), _BUYS.c.allocated + bindparam("take") <= _BUYS.c.stock),
    ).values(values))


_TAKE = {True: _taking(True), False: _taking(False)}  # by: the roster still to bump
_LINE_KEYS = [c.key for c in _LINES.c if c.key != "id"]
_ADD_LINE = Statement(insert(_LINES).values({k: bindparam(k) for k in _LINE_KEYS})
                      .returning(_LINES.c.id))
_NEW_LINE = {"coupon_id": None, "coupon_discount": 0, "points_used": 0, "points_value": 0,
             "paid_at": None, "delivered_at": None, "cancelled_at": None, "replenish_on": None,
             "picked_up_at": None, "closed_out": False}


@dataclass(frozen=True)
class Held:
    """A buy held for a join: its free stock then (None: unlimited), which nobody else can
    change until the transaction ends, and whether the hold bumped its roster revision."""

    free: int | None
    bumped: bool = False


@dataclass
class Joined:
    allocated: int = 0
    waitlisted: int = 0
    duplicate: bool = False
    orders: list[Order] = field(default_factory=list)
    held: int = 0  # what the member holds in the buy with this join


def _free(allocated: int, stock: int | None) -> int | None:
    return None if stock is None else stock - allocated


def hold_chat_buy(session: Runner, channel: str, chat_id: str) -> tuple[GroupBuy, Held] | None:
    """The chat's newest open buy, held for a join with its roster revision bumped (the join
    writes the roster anyway; a refused join rolls it back); None when the chat has none."""
    flush(session)  # pending ORM changes (a new or touched account) first, before the lock
    row = _HOLD_CHAT.run(session, {"in_channel": channel, "in_chat": chat_id}).first()
    if row is None:
        return None
    values = dict(zip(_BUY_KEYS, row, strict=True))
    buy = adopt(session_of(session), GroupBuy, values, attach=False)  # read only
    return buy, Held(_free(values["allocated"], values["stock"]), bumped=True)


def hold(session: Runner, buy_id: int) -> Held:
    """Hold the buy (PostgreSQL row lock) before reading what a join decides on: the member's
    units (two '+N' at the same instant cannot both pass the per-member limit), the queue
    and the free stock (a cancel freeing a unit finishes first, so the join sees it)."""
    flush(session)
    allocated, stock = _HOLD.run(session, {"buy": buy_id}).first() or (0, 0)
    return Held(_free(allocated, stock))


def standing(session: Runner, buy_id: int, member_id: int) -> tuple[int, bool]:
    """The units the member holds in the buy, and whether anyone waits in it (hold it first)."""
    row = _STANDING.run(session, {"buy": buy_id, "member": member_id}).first()
    return (int(row[0]), bool(row[1])) if row else (0, False)


def _take_stock(session: Runner, buy_id: int, wanted: int, held: Held) -> int:
    """Take up to `wanted` units of what the hold saw free; how many were taken. The
    conditional UPDATE is the guard: should it find less free (never while held), the stock
    is read again (bounded)."""
    free = held.free
    for _ in range(5):
        take = rules.split(wanted, free).allocated
        if take == 0:
            return 0
        if _TAKE[not held.bumped].run(session, {"buy": buy_id, "take": take}).rowcount == 1:
            return take
        allocated, stock = _STOCK.run(session, {"buy": buy_id}).first() or (0, 0)
        free = _free(allocated, stock)
    return 0


def _add_line(session: Runner, buy: GroupBuy, member_id: int, quantity: int, status: str,
              key: str, discount_pct: int, now: datetime, price_unit: int, attach: bool) -> Order:
    """One INSERT on the cursor (a second line for the same source key raises IntegrityError,
    as a flush would); the line as a persistent instance of the session (`attach`), else as
    a detached one, to read."""
    cost = price_order(buy.price, quantity, discount_pct, price_unit=price_unit)
    values: dict[str, Any] = {
        **_NEW_LINE, "group_buy_id": id_of(buy), "member_id": member_id, "quantity": quantity,
        "status": LineStatus(status), "source_key": key[:160], "unit_price": buy.price,
        "list_price": cost.list_price, "tier_discount": cost.tier_discount, "net": cost.net,
        "created_at": now}
    row = _ADD_LINE.run(session, values).first()
    assert row is not None  # INSERT … RETURNING
    return adopt(session_of(session), Order, {"id": row[0], **values}, attach=attach)


def join(session: Runner, buy: GroupBuy, member: Member, quantity: int, source_key: str,
         discount_pct: int, now: datetime, price_unit: int = 1, *, held: Held | None = None,
         queue: bool | None = None, attach: bool = True) -> Joined:
    """Allocate what stock allows and waitlist the rest, as one or two order lines.

    `held`: the buy is held already (else it is held here); `queue`: whether anyone waits, as
    read under that hold; `attach`: the lines in the session (else detached, to read).
    Nobody jumps the queue: while anyone waits, a new request waits behind them and the
    queue is served in order. The inbox already stops a redelivered message; the unique
    source key is the backstop.
    """
    buy_id, member_id = id_of(buy), id_of(member)
    if held is None:
        held = hold(session, buy_id)
    if queue is None:
        queue = standing(session, buy_id, member_id)[1]
    serving = queue and (held.free is None or held.free > 0)  # else nothing free to serve it
    if (serving or not held.bumped) and not isinstance(session, Session):
        raise NeedsSession("the waitlist served, or the roster bumped, through the ORM")
    taken = 0 if queue else _take_stock(session, buy_id, quantity, held)
    result = Joined(allocated=taken, waitlisted=quantity - taken)
    if taken:
        result.orders.append(_add_line(session, buy, member_id, taken, LineStatus.ALLOCATED,
                                       source_key, discount_pct, now, price_unit, attach))
    if quantity - taken:
        key = source_key if not taken else f"{source_key}:w"
        result.orders.append(_add_line(session, buy, member_id, quantity - taken,
                                       LineStatus.WAITLISTED, key, discount_pct, now, price_unit,
                                       attach))
    if not isinstance(session, Session):
        return result
    if not taken and not held.bumped:
        touch_roster(session, buy_id)
    if serving:
        waiting = result.orders[-1].id
        if any(line.id == waiting for line in serve_waitlist(session, buy_id)):
            result.allocated, result.waitlisted = quantity, 0
    return result
