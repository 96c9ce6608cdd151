"""The roster (接龍) a group sees: who holds how much, which rosters changed, what was posted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlmodel import Session, col

from models.orderlines import HOLDS_STOCK
from models.tables import GroupBuy, Member, Order


def roster(session: Session, buy_id: int, limit: int = 40) -> tuple[list[tuple[str, int]], int, int]:
    """(name, units) of the first `limit` allocated members, how many members, waiting units."""
    rows = session.execute(
        select(Member.display_name, func.sum(Order.quantity), func.min(Order.id))
        .join(Member, Member.id == Order.member_id)
        .where(Order.group_buy_id == buy_id, Order.status.in_(HOLDS_STOCK))  # type: ignore[attr-defined]
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


def published(session: Session, buy_id: int, *, rev: int, at: datetime,
              message_id: str | None) -> None:
    """The roster at revision `rev` is up in the group (as `message_id`, if it got a new one)."""
    values: dict[str, object] = {"roster_published_rev": rev, "roster_published_at": at}
    if message_id:  # else the roster keeps the message it had
        values["roster_message_id"] = message_id
    session.execute(update(GroupBuy).where(col(GroupBuy.id) == buy_id).values(**values))
