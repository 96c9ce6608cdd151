"""Tier evaluation at the end of each period (a calendar month): a member whose rolling
12 months no longer qualify moves down, with a notice. Upgrades happen at once elsewhere
(on delivery); a tier a leader set by hand in the last 12 months is left alone."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.context import Deps
from messages.types import Reply, to_body
from models import events, reminders
from models import tiers as tier_ops
from models.db import UnitOfWork
from models.programme import programme_for
from models.rules import tiers as rules
from models.tables import Community, Member, TierChange

log = logging.getLogger(__name__)
GRACE_DAYS = 7  # a job missed on the 1st still runs in the period's first week


def evaluate_tiers(deps: Deps) -> int:
    """Returns how many members moved down."""
    moved = 0
    with UnitOfWork(deps.sessions) as uow:
        ids = list(uow.session.execute(select(Community.id)).scalars())
    for community_id in ids:
        with UnitOfWork(deps.sessions) as uow:
            session = uow.session
            community = session.get(Community, community_id)
            assert community is not None
            local = deps.clock().astimezone(ZoneInfo(community.timezone))
            if local.day > GRACE_DAYS:
                continue
            programme, now = programme_for(community), deps.clock()
            lowest = programme.tiers[0].key
            for member in session.execute(select(Member).where(
                    Member.community_id == community_id, Member.tier != lowest,
                    Member.merged_into_id.is_(None))).scalars():  # type: ignore[union-attr]
                if _set_by_hand(session, member.id, now):  # type: ignore[arg-type]
                    continue
                spend, invites = tier_ops.standing(session, member, now)
                earned = rules.at_period_end(spend, invites, programme.tiers)
                if rules.rank(earned, programme.tiers) >= rules.rank(member.tier, programme.tiers):
                    continue
                before = member.tier
                tier_ops.change(session, member, earned, "period end", now)
                moved += 1
                _notify(session, deps, community, member, before, earned, programme, local)
            uow.commit()
    if moved:
        log.info("%d members moved down at period end", moved)
    return moved


def _set_by_hand(session: object, member_id: int, now: object) -> bool:
    last = session.execute(  # type: ignore[attr-defined]
        select(TierChange).where(TierChange.member_id == member_id)
        .order_by(TierChange.id.desc()).limit(1)  # type: ignore[union-attr]
    ).scalar_one_or_none()
    return bool(last and last.actor_member_id is not None
                and last.at > now - timedelta(days=365))  # type: ignore[operator]


def _notify(session: object, deps: Deps, community: Community, member: Member, before: str,
            after: str, programme: object, local: object) -> None:
    where = reminders.private_chat(session, member.id)  # type: ignore[arg-type]
    if where is None:
        return
    locale = member.locale or community.default_locale
    text = deps.renderer.render(
        locale, "tier_down", member=member, community=community, currency=community.currency,
        before=programme.tier_name(before, locale), after=programme.tier_name(after, locale))  # type: ignore[attr-defined]
    events.enqueue(session, where[0], where[1], to_body(Reply(text)), deps.clock(),  # type: ignore[arg-type]
                   community_id=community.id, member_id=member.id, kind="notice",
                   dedupe_key=f"tierdown:{member.id}:{local:%Y-%m}")  # type: ignore[str-format]
