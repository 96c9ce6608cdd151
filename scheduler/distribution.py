"""Distribution jobs: commission confirmation after the return window (hourly), the monthly
settlement on the 1st (statements, each distributor told privately, the leader told the CSV
is ready), and the qualification review (daily). Each is idempotent: a conditional watermark,
a statement unique per distributor and month, dedupe keys on every notice."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, notify
from models import commission, communities, distributors, settlement
from models.programme import programme_for
from models.rules import settlement as months
from models.rules.notify import Kind
from models.tables import Community
from models.types import id_of
from scheduler.each import each_community

log = logging.getLogger(__name__)
GRACE_DAYS = 7  # a settlement missed on the 1st still runs in the month's first week


def confirm_commissions(deps: Deps) -> int:
    """Pending commission whose return window has passed becomes confirmed."""

    def confirm(session: Session, community: Community, local: datetime) -> int:
        assert local.tzinfo is not None
        return commission.confirm(session, id_of(community), deps.clock(), local.tzinfo)

    return each_community(deps, confirm)


def settle_month(deps: Deps) -> int:
    """On the 1st (or within the first week): last month's statements, once; each
    distributor hears theirs, the owner hears the CSV is ready. Returns statements added.
    What the return window released by now is confirmed first (its own transactions)."""
    confirm_commissions(deps)

    def settle(session: Session, community: Community, local: datetime) -> int:
        if local.day > GRACE_DAYS:
            return 0
        now = deps.clock()
        month = months.previous_month(local.date())
        added = settlement.build(session, id_of(community), month, now)
        done = settlement.statements(session, id_of(community), month)
        for row, who in done:
            notify(session, deps, who, Message("statement", f=settlement.of_member(
                session, id_of(who), month)), Kind.SERVICE,
                key=f"statement:{row.id}", community=community, now=now)
        if done:
            for leader, role in communities.staff(session, id_of(community)):
                if role == communities.OWNER:
                    notify(session, deps, leader, Message("settlement_ready", ym=month,
                                                          count=len(done)),
                           Kind.SERVICE, key=f"settlement:{community.id}:{month}",
                           community=community, now=now)
        return added

    added = each_community(deps, settle)
    if added:
        log.info("%d distributor statements built", added)
    return added


def review_distributors(deps: Deps) -> int:
    """Approved distributors with no delivered sale in `review_days` are suspended, told why."""

    def review(session: Session, community: Community, local: datetime) -> int:
        days = programme_for(community).distribution.review_days
        if days is None:
            return 0
        suspended = distributors.review(session, id_of(community), days, deps.clock())
        for who in suspended:
            notify(session, deps, who, Message("distributor_notice", status="suspended",
                                               reason="", days=days),
                   Kind.SERVICE, key=f"review:{who.id}:{local:%Y-%m-%d}",
                   community=community, now=deps.clock())
        return len(suspended)

    return each_community(deps, review)
