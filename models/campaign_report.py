"""What a campaign did, per variant and holdout: assigned, sent (queued), reached (delivered
by the platform), unreachable, converted and revenue.

A recipient converts with a purchase in the community (an order line created and not
cancelled: allocated, paid or delivered) from the send until the end of its window
(`campaign_conversion_days`, 7 by default); a holdout member counts from the run's moment,
so the holdout shows what would have happened anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from models.tables import (
    Campaign,
    CampaignRecipient,
    GroupBuy,
    LineStatus,
    Order,
    OutboxMessage,
    OutboxStatus,
)
from models.types import id_of

BOUGHT = (LineStatus.ALLOCATED, LineStatus.PAID, LineStatus.DELIVERED)


@dataclass(frozen=True, slots=True)
class ArmCounts:
    variant: str
    assigned: int = 0
    sent: int = 0
    reached: int = 0
    unreachable: int = 0
    converted: int = 0
    revenue: int = 0


def report(session: Session, campaign: Campaign) -> dict[str, ArmCounts]:
    """Variant ('A', 'B', 'H') → its counts; three GROUP BY queries, whatever the size."""
    mine = col(CampaignRecipient.campaign_id) == id_of(campaign)
    variant = col(CampaignRecipient.variant)
    counts = {row[0]: row[1:] for row in session.execute(
        select(variant, func.count(), func.count(col(CampaignRecipient.outbox_key)),
               func.sum(case((col(CampaignRecipient.skipped) != "", 1), else_=0)))
        .where(mine).group_by(variant)).all()}
    reached = {name: int(n) for name, n in session.execute(
        select(variant, func.count())
        .join(OutboxMessage, col(OutboxMessage.dedupe_key) == col(CampaignRecipient.outbox_key))
        .where(mine, col(OutboxMessage.status) == OutboxStatus.SENT).group_by(variant)).all()}
    bought = session.execute(
        select(variant, func.count(func.distinct(col(CampaignRecipient.id))),
               func.coalesce(func.sum(col(Order.net)), 0))
        .join(Order, and_(col(Order.member_id) == col(CampaignRecipient.member_id),
                          col(Order.created_at) >= col(CampaignRecipient.sent_at),
                          col(Order.created_at) < col(CampaignRecipient.window_until)))
        .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
        .where(mine, col(GroupBuy.community_id) == campaign.community_id,
               col(Order.status).in_(BOUGHT)).group_by(variant)).all()
    converted = {row[0]: (int(row[1]), int(row[2])) for row in bought}
    return {name: ArmCounts(name, int(n), int(sent), reached.get(name, 0), int(skipped or 0),
                            *converted.get(name, (0, 0)))
            for name, (n, sent, skipped) in sorted(counts.items())}
