"""Referral rewards held for the leader's review (a burst of referrals): list, release, void.

Release pays both sides then (on the programme of the day); void refuses the reward for good.
Each is one conditional UPDATE from `held`: a double tap, or two leaders at once, move it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models import rewards
from models.programme import Programme
from models.tables import Member, ReferralReward, RewardStatus
from models.types import rows_matched

LISTED = 30  # /holds shows the oldest this many (and how many there are)


@dataclass(frozen=True)
class Hold:
    reward: ReferralReward
    referee: Member
    referrer: Member


def held(session: Session, community_id: int, *, reward_id: int | None = None,
         member_id: int | None = None, limit: int = LISTED) -> list[Hold]:
    """The community's held rewards, oldest first: all, one by id, or those where the member
    is the referrer or the referee."""
    referee, referrer = aliased(Member), aliased(Member)
    query = (select(ReferralReward, referee, referrer)
             .join(referee, col(referee.id) == col(ReferralReward.referee_id))
             .join(referrer, col(referrer.id) == col(ReferralReward.referrer_id))
             .where(col(ReferralReward.community_id) == community_id,
                    col(ReferralReward.status) == RewardStatus.HELD)
             .order_by(col(ReferralReward.id)).limit(limit))
    if reward_id is not None:
        query = query.where(col(ReferralReward.id) == reward_id)
    if member_id is not None:
        query = query.where(or_(col(ReferralReward.referee_id) == member_id,
                                col(ReferralReward.referrer_id) == member_id))
    return [Hold(r, e, f) for r, e, f in session.execute(query).all()]


def _decide(session: Session, hold: Hold, to: RewardStatus, actor_id: int, now: datetime) -> bool:
    moved = session.execute(
        update(ReferralReward)
        .where(col(ReferralReward.id) == hold.reward.id,
               col(ReferralReward.status) == RewardStatus.HELD)
        .values(status=to, decided_at=now, decided_by_id=actor_id)
        .execution_options(synchronize_session=False))
    if rows_matched(moved) != 1:
        return False
    session.refresh(hold.reward)
    return True


def release(session: Session, hold: Hold, *, actor_id: int, programme: Programme, today: date,
            now: datetime) -> bool:
    """Pay a held reward; False when it was no longer held."""
    if not _decide(session, hold, RewardStatus.PAID, actor_id, now):
        return False
    rewards.pay(session, hold.reward, programme, today, now)
    return True


def void(session: Session, hold: Hold, *, actor_id: int, now: datetime) -> bool:
    """Refuse a held reward for good; False when it was no longer held."""
    return _decide(session, hold, RewardStatus.VOID, actor_id, now)
