"""Points expiry: every night, each community's members lose what expired (FIFO)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from handlers.context import Deps
from models import ledger
from models.tables import Community, Member
from scheduler.each import each_community

log = logging.getLogger(__name__)
LOOKBACK = timedelta(days=40)  # a job missed for weeks still catches up


def expire_points(deps: Deps) -> int:
    """Idempotent: the ledger key is per member per local day. Returns points written off."""

    def expire(session: Session, community: Community, local: datetime) -> int:
        today = local.date()
        ids = ledger.members_with_expiring(session, today - LOOKBACK, today)
        found = session.execute(select(Member).where(
            Member.id.in_(ids), Member.community_id == community.id)).scalars()  # type: ignore[union-attr]
        return sum(ledger.expire(session, member, today) for member in found)

    total = each_community(deps, expire)
    if total:
        log.info("expired %d points", total)
    return total
