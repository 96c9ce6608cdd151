"""What the reminder jobs select, set-based: due replenishments, birthday months, push counts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, and_, cast, exists, literal, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.segments import reachable_account
from models.tables import (
    BuyStatus,
    ChannelAccount,
    Coupon,
    GroupBuy,
    LineStatus,
    Member,
    Order,
    OutboxMessage,
)


def due_replenishments(session: Session, community_id: int, today: date, oldest: date,
                       limit: int = 20_000,
                       now: datetime | None = None) -> list[tuple[Order, GroupBuy, Member]]:
    """Delivered lines whose consumption cycle runs out by today, not yet reminded, and not
    followed by a newer order of the same product (or category) by the same member; not for
    a member who opted out on every channel (notify decides per channel), nor, given `now`,
    for one no push can reach now (who would otherwise come back first in every run)."""
    later, later_buy = aliased(Order), aliased(GroupBuy)
    rebought = exists().where(
        col(later.member_id) == col(Order.member_id), col(later.id) > col(Order.id),
        col(later.status).in_((LineStatus.ALLOCATED, LineStatus.PAID, LineStatus.DELIVERED)),
        col(later_buy.id) == col(later.group_buy_id),
        and_(col(later_buy.community_id) == col(GroupBuy.community_id),
             (col(later_buy.title) == col(GroupBuy.title)) | (
                 (col(GroupBuy.category) != "") & (col(later_buy.category) == col(GroupBuy.category)))),
    )
    willing = exists().where(col(ChannelAccount.member_id) == col(Order.member_id),
                             col(ChannelAccount.opted_out).is_(False),
                             reachable_account(now) if now is not None else true())
    key = literal("replenish:").concat(cast(col(Order.id), String))
    reminded = exists().where(col(OutboxMessage.dedupe_key) == key)
    rows = session.execute(
        select(Order, GroupBuy, Member)
        .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
        .join(Member, col(Member.id) == col(Order.member_id))
        .where(col(GroupBuy.community_id) == community_id, col(Order.status) == LineStatus.DELIVERED,
               col(Order.replenish_on) <= today, col(Order.replenish_on) >= oldest,
               willing, col(Member.merged_into_id).is_(None),
               ~rebought, ~reminded)
        .order_by(col(Order.replenish_on), col(Order.id)).limit(limit)
    ).all()
    return [(o, b, m) for o, b, m in rows]


def birthday_members(session: Session, community_id: int, month: int,
                     year: int | None = None) -> list[Member]:
    """The community's members born in `month`; given the `year`, only those without that
    year's birthday coupon yet (its key: models.rules.birthday.coupon_key)."""
    query = select(Member).where(col(Member.community_id) == community_id,
                                 col(Member.birthday_month) == month,
                                 col(Member.merged_into_id).is_(None))
    if year is not None:
        key = literal("birthday:").concat(cast(col(Member.id), String)).concat(f":{year}")
        query = query.where(~exists().where(col(Coupon.issue_key) == key))
    return list(session.execute(query.order_by(col(Member.id))).scalars())



def open_buys(session: Session, community_id: int, now: datetime) -> list[GroupBuy]:
    """The community's open group buys, before their deadline and open to every tier
    (a tier-only buy, 專屬, is never suggested), newest first."""
    return list(session.execute(
        select(GroupBuy).where(col(GroupBuy.community_id) == community_id,
                               col(GroupBuy.status) == BuyStatus.OPEN,
                               col(GroupBuy.deadline) > now, col(GroupBuy.exclusive_tier).is_(None))
        .order_by(col(GroupBuy.id).desc())).scalars())
