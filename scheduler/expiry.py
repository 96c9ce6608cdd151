"""Points expiry: every night, each community's members lose what expired (FIFO)."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.context import Deps
from models import ledger
from models.db import UnitOfWork
from models.tables import Community, Member

log = logging.getLogger(__name__)
LOOKBACK = timedelta(days=40)  # a job missed for weeks still catches up


def expire_points(deps: Deps) -> int:
    """Idempotent: the ledger key is per member per local day. Returns points written off."""
    total = 0
    now = deps.clock()
    with UnitOfWork(deps.sessions) as uow:
        communities = uow.session.execute(select(Community.id, Community.timezone)).all()
    for community_id, timezone in communities:
        today = now.astimezone(ZoneInfo(timezone)).date()
        with UnitOfWork(deps.sessions) as uow:
            ids = ledger.members_with_expiring(uow.session, today - LOOKBACK, today)
            for member in uow.session.execute(
                select(Member).where(Member.id.in_(ids), Member.community_id == community_id)  # type: ignore[union-attr]
            ).scalars():
                total += ledger.expire(uow.session, member, today)
            uow.commit()
    if total:
        log.info("expired %d points", total)
    return total
