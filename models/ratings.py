"""Ratings: one per member per buy they received (a unique constraint), 1–5 and a comment.

A re-rate changes the rating (a conditional UPDATE on the member's row; a rating without a
comment keeps the comment given before); two first ratings at once: the second insert hits
the unique constraint and its unit of work runs again, as an update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Exists, exists, func, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.pickup import WAITING
from models.rules.pickup import average_tenths
from models.tables import GroupBuy, LineStatus, Member, Order, Rating
from models.types import rows_matched


@dataclass
class Rated:
    score: int
    before: int | None  # the score it replaced; None for a first rating


@dataclass
class Summary:
    count: int
    average_tenths: int | None
    ratings: list[tuple[Rating, Member]]


def received(buy_id: int, member_id: int) -> Exists:
    """The member has a delivered line in the buy."""
    return exists().where(col(Order.group_buy_id) == buy_id, col(Order.member_id) == member_id,
                          col(Order.status) == LineStatus.DELIVERED)


def may_rate(session: Session, buy_id: int, member_id: int) -> bool:
    return bool(session.execute(select(received(buy_id, member_id))).scalar())


def rate(session: Session, *, buy_id: int, member_id: int, score: int, comment: str,
         now: datetime) -> Rated:
    """Record (or change) the member's rating of the buy."""
    before = session.execute(select(col(Rating.score)).where(
        col(Rating.group_buy_id) == buy_id, col(Rating.member_id) == member_id)).scalar()
    values: dict[str, object] = {"score": score, "updated_at": now}
    if comment:
        values["comment"] = comment
    changed = session.execute(
        update(Rating).where(col(Rating.group_buy_id) == buy_id, col(Rating.member_id) == member_id)
        .values(**values).execution_options(synchronize_session="fetch"))
    if rows_matched(changed) == 0:
        session.add(Rating(group_buy_id=buy_id, member_id=member_id, score=score, comment=comment,
                           created_at=now, updated_at=now))
        session.flush()
        before = None
    return Rated(score, before)


def summary(session: Session, buy_id: int, limit: int = 30) -> Summary:
    """The buy's ratings: how many, the average (in tenths), the newest first."""
    scores = list(session.execute(select(col(Rating.score)).where(
        col(Rating.group_buy_id) == buy_id)).scalars())
    rows = session.execute(
        select(Rating, Member).join(Member, col(Member.id) == col(Rating.member_id))
        .where(col(Rating.group_buy_id) == buy_id)
        .order_by(col(Rating.updated_at).desc(), col(Rating.id).desc()).limit(limit)).all()
    return Summary(len(scores), average_tenths(scores), [(r, m) for r, m in rows])


def due_asks(session: Session, community_id: int, now: datetime, after: timedelta,
             oldest: datetime) -> list[tuple[GroupBuy, Member]]:
    """Members with goods in hand from a buy (delivered at least `after` ago, since `oldest`),
    nothing of it still waiting for them, and no rating of it yet: ask them to rate."""
    other = aliased(Order)
    waiting = exists().where(col(other.group_buy_id) == col(GroupBuy.id),
                             col(other.member_id) == col(Member.id), col(other.status).in_(WAITING))
    rated = exists().where(col(Rating.group_buy_id) == col(GroupBuy.id),
                           col(Rating.member_id) == col(Member.id))
    last = func.max(col(Order.delivered_at))
    rows = session.execute(
        select(GroupBuy, Member)
        .join(Order, col(Order.group_buy_id) == col(GroupBuy.id))
        .join(Member, col(Member.id) == col(Order.member_id))
        .where(col(GroupBuy.community_id) == community_id, col(Order.status) == LineStatus.DELIVERED,
               col(Member.merged_into_id).is_(None), ~waiting, ~rated)
        .group_by(col(GroupBuy.id), col(Member.id))
        .having(last <= now - after, last >= oldest)
        .order_by(col(GroupBuy.id), col(Member.id)).limit(500)).all()
    return [(b, m) for b, m in rows]
