"""Tier changes on a member: immediate upgrades from activity, manual changes with a reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.db import Runner, Statement
from models.programme import Programme
from models.rules import tiers as rules
from models.tables import Member, SpendEntry, TierChange
from models.types import UTCDateTime, id_of


def standing_columns(member: Any) -> tuple[Any, Any]:
    """Rolling 12-month spend and invites (see `standing`) of `member` (a bound id, or the
    member column of an enclosing query), since the bind "since"."""
    since = bindparam("since", type_=UTCDateTime())
    invited = aliased(Member)
    spend = (select(func.coalesce(func.sum(col(SpendEntry.amount)), 0))
             .where(col(SpendEntry.member_id) == member, col(SpendEntry.occurred_at) >= since)
             .scalar_subquery())
    invites = (select(func.count(col(invited.id)))
               .where(col(invited.referred_by_id) == member, col(invited.first_purchase_at) >= since)
               .scalar_subquery())
    return spend, invites


_STANDING = Statement(select(*standing_columns(bindparam("member"))))


def standing(session: Runner, member_id: int | None, now: datetime) -> tuple[int, int]:
    """Rolling 12-month spend and invited members whose first purchase is in the same 12
    months (one prebuilt query): an invite-earned tier lapses as a spend-earned one does."""
    row = _STANDING.run(session, {"member": member_id, "since": rules.rolling_since(now)}).first()
    assert row is not None  # two aggregates: always one row
    return int(row[0]), int(row[1])


def change(
    session: Session, member: Member, to_tier: str, reason: str, now: datetime,
    actor_id: int | None = None,
) -> bool:
    if member.tier == to_tier:
        return False
    session.add(TierChange(
        member_id=id_of(member), from_tier=member.tier, to_tier=to_tier,
        reason=reason[:200], actor_member_id=actor_id, at=now,
    ))
    member.tier = to_tier
    session.add(member)
    session.flush()
    return True


def upgrade_if_earned(
    session: Session, member: Member, programme: Programme, now: datetime
) -> str | None:
    """Upgrade at once when the rolling numbers qualify; returns the new tier or None."""
    spend, invites = standing(session, member.id, now)
    earned = rules.upgraded(member.tier, spend, invites, programme.tiers)
    if earned != member.tier and change(session, member, earned, "qualified", now):
        return earned
    return None


def above(session: Session, community_id: int, lowest: str) -> list[Member]:
    """The community's live members above the lowest tier (candidates to move down)."""
    return list(session.execute(select(Member).where(
        col(Member.community_id) == community_id, col(Member.tier) != lowest,
        col(Member.merged_into_id).is_(None))).scalars())


def set_by_hand_since(session: Session, member_id: int, since: datetime) -> bool:
    """Was the member's last tier change a leader's, after `since`?"""
    last = session.execute(
        select(TierChange).where(col(TierChange.member_id) == member_id)
        .order_by(col(TierChange.id).desc()).limit(1)
    ).scalar_one_or_none()
    return bool(last and last.actor_member_id is not None and last.at > since)
