"""What the reminder jobs select, set-based: due replenishments, birthday months, push counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import String, and_, cast, exists, literal, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.tables import ChannelAccount, GroupBuy, Member, Order, OutboxMessage


def due_replenishments(session: Session, community_id: int, today: date, oldest: date,
                       limit: int = 500) -> list[tuple[Order, GroupBuy, Member]]:
    """Delivered lines whose consumption cycle runs out by today, not yet reminded, and not
    followed by a newer order of the same product (or category) by the same member; not for
    a member who opted out on every channel (notify decides per channel)."""
    later, later_buy = aliased(Order), aliased(GroupBuy)
    rebought = exists().where(
        later.member_id == Order.member_id, later.id > Order.id,
        later.status.in_(("allocated", "paid", "delivered")),  # type: ignore[attr-defined]
        later_buy.id == later.group_buy_id,
        and_(later_buy.community_id == GroupBuy.community_id,
             (later_buy.title == GroupBuy.title) | (
                 (GroupBuy.category != "") & (later_buy.category == GroupBuy.category))),
    )
    willing = exists().where(ChannelAccount.member_id == Order.member_id,
                             ChannelAccount.opted_out.is_(False))  # type: ignore[attr-defined]
    key = literal("replenish:").concat(cast(Order.id, String))
    reminded = exists().where(OutboxMessage.dedupe_key == key)
    rows = session.execute(
        select(Order, GroupBuy, Member)
        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .join(Member, Member.id == Order.member_id)
        .where(GroupBuy.community_id == community_id, Order.status == "delivered",
               Order.replenish_on <= today, Order.replenish_on >= oldest,  # type: ignore[operator]
               willing, Member.merged_into_id.is_(None),  # type: ignore[union-attr]
               ~rebought, ~reminded)
        .order_by(Order.replenish_on, Order.id).limit(limit)
    ).all()
    return [(o, b, m) for o, b, m in rows]


def birthday_members(session: Session, community_id: int, month: int) -> list[Member]:
    return list(session.execute(
        select(Member).where(Member.community_id == community_id, Member.birthday_month == month,
                             Member.merged_into_id.is_(None))  # type: ignore[union-attr]
        .order_by(Member.id)
    ).scalars())

