"""Tier evaluation at the end of each period (a calendar month): a member whose rolling
12 months no longer qualify moves down, with a notice. Upgrades happen at once elsewhere
(on delivery); a tier a leader set by hand in the last 12 months is left alone."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from handlers.context import Deps
from messages.records import reply_record
from messages.types import Reply
from models import events, members
from models import tiers as tier_ops
from models.programme import Programme, programme_for
from models.rules import tiers as rules
from models.tables import Community, Member, TierChange
from scheduler.each import each_community

log = logging.getLogger(__name__)
GRACE_DAYS = 7  # a job missed on the 1st still runs in the period's first week


def evaluate_tiers(deps: Deps) -> int:
    """Returns how many members moved down."""

    def evaluate(session: Session, community: Community, local: datetime) -> int:
        if local.day > GRACE_DAYS:
            return 0
        programme, now, moved = programme_for(community), deps.clock(), 0
        for member in session.execute(select(Member).where(
                Member.community_id == community.id, Member.tier != programme.tiers[0].key,
                Member.merged_into_id.is_(None))).scalars():  # type: ignore[union-attr]
            if _set_by_hand(session, member.id, now):  # type: ignore[arg-type]
                continue
            spend, invites = tier_ops.standing(session, member, now)
            earned = rules.at_period_end(spend, invites, programme.tiers)
            if rules.rank(earned, programme.tiers) >= rules.rank(member.tier, programme.tiers):
                continue
            before = member.tier
            tier_ops.change(session, member, earned, "period end", now)
            _notify(session, deps, community, member, before, earned, programme, local)
            moved += 1
        return moved

    moved = each_community(deps, evaluate)
    if moved:
        log.info("%d members moved down at period end", moved)
    return moved


def _set_by_hand(session: Session, member_id: int, now: datetime) -> bool:
    last = session.execute(
        select(TierChange).where(TierChange.member_id == member_id)
        .order_by(TierChange.id.desc()).limit(1)  # type: ignore[union-attr]
    ).scalar_one_or_none()
    return bool(last and last.actor_member_id is not None
                and last.at > now - timedelta(days=365))


def _notify(session: Session, deps: Deps, community: Community, member: Member, before: str,
            after: str, programme: Programme, local: datetime) -> None:
    where = members.push_target(session, member.id)  # type: ignore[arg-type]
    if where is None:
        return
    locale = member.locale or community.default_locale
    text = deps.renderer.render(
        locale, "tier_down", member=member, community=community, currency=community.currency,
        before=programme.tier_name(before, locale), after=programme.tier_name(after, locale))
    events.enqueue(session, where[0], where[1], reply_record(Reply(text)), deps.clock(),
                   community_id=community.id, member_id=member.id, kind="notice",
                   dedupe_key=f"tierdown:{member.id}:{local:%Y-%m}")
