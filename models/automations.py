"""Who the automatic pushes are due to, selected set-based (one query per job and community):
new members to welcome, lapsed members to win back, points about to lapse, tiers at risk.

Each selection leaves out who was already told (the push's dedupe key is in the outbox), so
a re-run selects nothing new; notify still decides per member (opt-out, quiet hours, cap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.programme import Programme
from models.segments import COUNTED
from models.tables import GroupBuy, Member, Order, OutboxMessage, PointsEntry, SpendEntry, TierChange

YEAR = timedelta(days=365)
HAND_SET = timedelta(days=365)  # a leader's tier choice stands for a year (scheduler/tiers.py)


def _told(key: Any) -> Any:
    """The push with this dedupe key (an SQL expression) was queued before."""
    return exists().where(col(OutboxMessage.dedupe_key) == key)


def _key(prefix: str, *parts: Any) -> Any:
    expression: Any = literal(prefix)
    for index, part in enumerate(parts):
        expression = expression.concat(cast(part, String) if index == 0 else
                                       literal(":").concat(cast(part, String)))
    return expression


def _live(community_id: int) -> tuple[Any, ...]:
    return (col(Member.community_id) == community_id, col(Member.merged_into_id).is_(None))


def welcome_key(member_id: int) -> str:
    return f"welcome:{member_id}"


def to_welcome(session: Session, community_id: int, since: datetime) -> list[Member]:
    """Members who joined since `since` and were not welcomed yet."""
    return list(session.execute(
        select(Member).where(*_live(community_id), col(Member.joined_at) >= since,
                             ~_told(_key("welcome:", col(Member.id))))
        .order_by(col(Member.id))).scalars())


@dataclass(frozen=True, slots=True)
class Lapse:
    member: Member
    last_order_id: int  # the key: one win-back per lapse (a new order, a new lapse)
    last_order_at: datetime


def lapsed(session: Session, community_id: int, now: datetime, days: int,
           catch_up: timedelta) -> list[Lapse]:
    """Members whose last standing order is `days` days old (up to `catch_up` older, so a
    missed run still catches up, but not members gone for years) and not yet won back."""
    last = (select(col(Order.member_id).label("member_id"),
                   func.max(col(Order.id)).label("last_id"),
                   func.max(col(Order.created_at)).label("last_at"))
            .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
            .where(col(GroupBuy.community_id) == community_id, col(Order.status).in_(COUNTED))
            .group_by(col(Order.member_id))
            .having(and_(func.max(col(Order.created_at)) < now - timedelta(days=days),
                         func.max(col(Order.created_at)) >= now - timedelta(days=days) - catch_up))
            .subquery())
    rows = session.execute(
        select(Member, last.c.last_id, last.c.last_at)
        .join(last, last.c.member_id == col(Member.id))
        .where(*_live(community_id), ~_told(_key("winback:", last.c.last_id)))
        .order_by(col(Member.id))).all()
    return [Lapse(member, int(last_id), last_at) for member, last_id, last_at in rows]


@dataclass(frozen=True, slots=True)
class Expiring:
    member: Member
    on: date  # the batch: every earning that lapses that day
    points: int


def expiring(session: Session, community_id: int, today: date, horizon: date) -> list[Expiring]:
    """Members with earned points lapsing between today and `horizon` (the soonest batch),
    not yet reminded of that batch. Points left to lapse, FIFO: what was earned to lapse by
    then, less everything spent or written off, at most the balance."""
    batch = (select(col(PointsEntry.member_id).label("member_id"),
                    func.min(col(PointsEntry.expires_on)).label("on"))
             .join(Member, col(Member.id) == col(PointsEntry.member_id))
             .where(*_live(community_id), col(Member.points_balance) > 0,
                    col(PointsEntry.delta) > 0, col(PointsEntry.expires_on) >= today,
                    col(PointsEntry.expires_on) <= horizon)
             .group_by(col(PointsEntry.member_id)).subquery())
    entry = aliased(PointsEntry)
    early = func.sum(case((and_(col(entry.delta) > 0, col(entry.expires_on) <= batch.c.on),
                           col(entry.delta)), else_=0))
    spent = func.sum(case((col(entry.delta) < 0, -col(entry.delta)), else_=0))
    rows = session.execute(
        select(Member, batch.c.on, early, spent)
        .join(batch, batch.c.member_id == col(Member.id))
        .join(entry, col(entry.member_id) == col(Member.id))
        .where(~_told(_key("expiring:", col(Member.id), batch.c.on)))
        .group_by(col(Member.id), batch.c.on)
        .order_by(col(Member.id))).all()
    found = []
    for member, on, earned, used in rows:
        points = min(member.points_balance, int(earned) - int(used))
        if points > 0:
            found.append(Expiring(member, on if isinstance(on, date) else date.fromisoformat(on),
                                  points))
    return found


def expiring_key(member_id: int, on: date) -> str:
    return f"expiring:{member_id}:{on.isoformat()}"


@dataclass(frozen=True, slots=True)
class AtRisk:
    member: Member
    missing: int  # minor units to spend before the period ends to keep the tier


def tiers_at_risk(session: Session, community_id: int, programme: Programme,
                  period_end: datetime, now: datetime, period: str) -> list[AtRisk]:
    """Members above the lowest tier whose rolling 12 months at `period_end` (the next
    evaluation) would not keep their tier, by spend or by invited members who bought;
    not set by hand in the last year; not yet told this `period` ('YYYY-MM')."""
    tiers = programme.tiers
    spend = (select(col(SpendEntry.member_id).label("member_id"),
                    func.sum(col(SpendEntry.amount)).label("spend"))
             .join(Member, col(Member.id) == col(SpendEntry.member_id))
             .where(*_live(community_id), col(SpendEntry.occurred_at) >= period_end - YEAR)
             .group_by(col(SpendEntry.member_id)).subquery())
    friend = aliased(Member)
    invites = (select(col(friend.referred_by_id).label("member_id"), func.count().label("invites"))
               .where(col(friend.community_id) == community_id,
                      col(friend.first_purchase_at).is_not(None),
                      col(friend.referred_by_id).is_not(None))
               .group_by(col(friend.referred_by_id)).subquery())
    spent = func.coalesce(spend.c.spend, 0)
    invited = func.coalesce(invites.c.invites, 0)
    needed = case({t.key: t.min_spend for t in tiers}, value=col(Member.tier), else_=0)
    by_invites = case({t.key: t.min_invites for t in tiers if t.min_invites is not None},
                      value=col(Member.tier), else_=None)
    keeps = (spent >= needed) | (by_invites.is_not(None) & (invited >= by_invites))
    hand = exists().where(col(TierChange.member_id) == col(Member.id),
                          col(TierChange.actor_member_id).is_not(None),
                          col(TierChange.at) > now - HAND_SET)
    rows = session.execute(
        select(Member, needed - spent)
        .outerjoin(spend, spend.c.member_id == col(Member.id))
        .outerjoin(invites, invites.c.member_id == col(Member.id))
        .where(*_live(community_id), col(Member.tier) != tiers[0].key,
               col(Member.tier).in_([t.key for t in tiers]), ~keeps, ~hand,
               ~_told(_key("keeptier:", col(Member.id), literal(period))))
        .order_by(col(Member.id))).all()
    return [AtRisk(member, int(missing)) for member, missing in rows]


def keep_tier_key(member_id: int, period: str) -> str:
    return f"keeptier:{member_id}:{period}"
