"""Tags on members: interest tags from purchases (recomputed daily, set-based) and tags a
leader sets by hand. A segment tests them with `tag=…`."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete, exists, func, insert, literal, select
from sqlmodel import Session, col

from models.segments import COUNTED
from models.tables import GroupBuy, MemberTag, Order
from models.types import UTCDateTime, rows_matched

AUTO, MANUAL = "auto", "manual"
_TAG = re.compile(r"^[^\s=<>!@/\"-][^\s=<>!@/\"]{0,31}$")


def valid(name: str) -> bool:
    return _TAG.match(name) is not None


def tag(session: Session, community_id: int, member_id: int, name: str, now: datetime) -> bool:
    """A leader's tag (an automatic one of that name becomes the leader's); False if it was there."""
    found = session.execute(select(MemberTag).where(col(MemberTag.member_id) == member_id,
                                                    col(MemberTag.tag) == name)).scalar_one_or_none()
    if found is not None:
        changed: bool = found.source != MANUAL
        found.source = MANUAL
        session.add(found)
        session.flush()
        return changed
    session.add(MemberTag(community_id=community_id, member_id=member_id, tag=name, source=MANUAL,
                          created_at=now))
    session.flush()
    return True


def untag(session: Session, community_id: int, member_id: int, name: str, now: datetime) -> bool:
    done = session.execute(delete(MemberTag).where(
        col(MemberTag.community_id) == community_id, col(MemberTag.member_id) == member_id,
        col(MemberTag.tag) == name))
    return rows_matched(done) > 0


def of_member(session: Session, member_id: int) -> list[str]:
    return list(session.execute(select(col(MemberTag.tag)).where(col(MemberTag.member_id) == member_id)
                                .order_by(col(MemberTag.tag))).scalars())


def recompute_interests(session: Session, community_id: int, min_purchases: int,
                        now: datetime) -> int:
    """Replace the community's automatic tags: a member with `min_purchases` or more group
    buys bought in a category gets that category's tag (a leader's tag of that name stays
    the leader's). Two statements in the caller's transaction; returns the tags now set."""
    session.execute(delete(MemberTag).where(col(MemberTag.community_id) == community_id,
                                            col(MemberTag.source) == AUTO))
    kept = exists().where(col(MemberTag.member_id) == col(Order.member_id),
                          col(MemberTag.tag) == col(GroupBuy.category))  # only a leader's is left
    earned = (
        select(literal(community_id), col(Order.member_id), col(GroupBuy.category), literal(AUTO),
               literal(now, UTCDateTime()))
        .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
        .where(col(GroupBuy.community_id) == community_id, col(GroupBuy.category) != "",
               col(Order.status).in_(COUNTED), func.length(col(GroupBuy.category)) <= 32, ~kept)
        .group_by(col(Order.member_id), col(GroupBuy.category))
        .having(func.count(func.distinct(col(Order.group_buy_id))) >= max(1, min_purchases))
    )
    session.execute(insert(MemberTag).from_select(
        ["community_id", "member_id", "tag", "source", "created_at"], earned))
    return int(session.execute(select(func.count()).where(
        col(MemberTag.community_id) == community_id, col(MemberTag.source) == AUTO)).scalar_one())
