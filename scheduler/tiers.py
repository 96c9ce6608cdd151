"""Tier evaluation at the end of each period (a calendar month): a member whose rolling
12 months no longer qualify moves down, with a notice. Upgrades happen at once elsewhere
(on delivery); a tier a leader set by hand in the last 12 months is left alone."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, notify
from models import tiers as tier_ops
from models.programme import Programme, programme_for
from models.rules import tiers as rules
from models.rules.notify import Kind
from models.tables import Community, Member
from models.types import id_of
from scheduler.each import each_community

log = logging.getLogger(__name__)
GRACE_DAYS = 7  # a job missed on the 1st still runs in the period's first week
HAND_SET = timedelta(days=365)  # a leader's choice stands for a year


def evaluate_in(session: Session, deps: Deps, community: Community, local: datetime) -> int:
    """One community's members moved down (in the period's first week, else nothing)."""
    if local.day > GRACE_DAYS:
        return 0
    programme, now, moved = programme_for(community), deps.clock(), 0
    for member in tier_ops.above(session, id_of(community), programme.tiers[0].key):
        if tier_ops.set_by_hand_since(session, id_of(member), now - HAND_SET):
            continue
        spend, invites = tier_ops.standing(session, member.id, now)
        earned = rules.at_period_end(spend, invites, programme.tiers)
        if rules.rank(earned, programme.tiers) >= rules.rank(member.tier, programme.tiers):
            continue
        before = member.tier
        tier_ops.change(session, member, earned, "period end", now)
        _tell(session, deps, community, member, before, earned, programme, local)
        moved += 1
    return moved


def evaluate_tiers(deps: Deps) -> int:
    """Returns how many members moved down."""
    moved = each_community(deps, lambda s, c, local: evaluate_in(s, deps, c, local))
    if moved:
        log.info("%d members moved down at period end", moved)
    return moved


def _tell(session: Session, deps: Deps, community: Community, member: Member, before: str,
          after: str, programme: Programme, local: datetime) -> None:
    locale = member.locale or community.default_locale
    notify(session, deps, member, Message("tier_down", before=programme.tier_name(before, locale),
                                          after=programme.tier_name(after, locale)),
           Kind.SERVICE, key=f"tierdown:{member.id}:{local:%Y-%m}", community=community)
