"""Tier changes on a member: immediate upgrades from activity, manual changes with a reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from models import members
from models.programme import Programme
from models.rules import tiers as rules
from models.tables import Member, TierChange

YEAR = timedelta(days=365)


def standing(session: Session, member: Member, now: datetime) -> tuple[int, int]:
    """Rolling 12-month spend and invited members who bought."""
    spend = members.spend_since(session, member.id, now - YEAR)  # type: ignore[arg-type]
    invites = members.qualified_invites(session, member.id)  # type: ignore[arg-type]
    return spend, invites


def change(
    session: Session, member: Member, to_tier: str, reason: str, now: datetime,
    actor_id: int | None = None,
) -> bool:
    if member.tier == to_tier:
        return False
    session.add(TierChange(
        member_id=member.id, from_tier=member.tier, to_tier=to_tier,  # type: ignore[arg-type]
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
    spend, invites = standing(session, member, now)
    earned = rules.upgraded(member.tier, spend, invites, programme.tiers)
    if earned != member.tier and change(session, member, earned, "qualified", now):
        return earned
    return None
