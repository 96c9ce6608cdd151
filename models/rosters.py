"""The roster (接龍) a group sees: who holds how much, which rosters changed, what was posted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlmodel import Session, col

from models.orderlines import HOLDS_STOCK
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order


def roster(session: Session, buy_id: int, limit: int = 40) -> tuple[list[tuple[str, int]], int, int]:
    """(name, units) of the first `limit` allocated members, how many members, waiting units."""
    rows = session.execute(
        select(col(Member.display_name), func.sum(col(Order.quantity)), func.min(col(Order.id)))
        .join(Member, col(Member.id) == col(Order.member_id))
        .where(col(Order.group_buy_id) == buy_id, col(Order.status).in_(HOLDS_STOCK))
        .group_by(col(Member.id), col(Member.display_name)).order_by(func.min(col(Order.id)))
    ).all()
    waiting = session.execute(
        select(func.coalesce(func.sum(col(Order.quantity)), 0))
        .where(col(Order.group_buy_id) == buy_id, col(Order.status) == LineStatus.WAITLISTED)
    ).scalar_one()
    return [(name, int(units)) for name, units, _ in rows[:limit]], len(rows), int(waiting)


def due_rosters(session: Session, channel: str, before: datetime, limit: int = 20,
                now: datetime | None = None) -> list[GroupBuy]:
    """Group buys whose roster changed and was last published before `before`.

    With `now`, also an open group buy whose deadline passed since its roster was last
    published: once, so the group stops being asked to '+1' into a closed buy.
    """
    changed = col(GroupBuy.roster_rev) > col(GroupBuy.roster_published_rev)
    if now is not None:
        changed = or_(changed, and_(
            col(GroupBuy.status) == BuyStatus.OPEN, col(GroupBuy.deadline) <= now,
            col(GroupBuy.roster_published_at).is_not(None),
            col(GroupBuy.roster_published_at) < col(GroupBuy.deadline),
        ))
    return list(session.execute(
        select(GroupBuy).where(
            col(GroupBuy.channel) == channel, changed,
            or_(col(GroupBuy.roster_published_at).is_(None), col(GroupBuy.roster_published_at) <= before),
        ).order_by(col(GroupBuy.id)).limit(limit)
    ).scalars())


def published(session: Session, buy_id: int, *, rev: int, at: datetime,
              message_id: str | None) -> None:
    """The roster at revision `rev` is up in the group (as `message_id`, if it got a new one)."""
    values: dict[str, object] = {"roster_published_rev": rev, "roster_published_at": at}
    if message_id:  # else the roster keeps the message it had
        values["roster_message_id"] = message_id
    session.execute(update(GroupBuy).where(col(GroupBuy.id) == buy_id).values(**values))
