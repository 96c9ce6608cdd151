"""Points expiry: every night, each community's members lose what expired (FIFO)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.context import Deps
from models import ledger
from models.tables import Community
from models.types import id_of
from scheduler.each import each_community

log = logging.getLogger(__name__)
LOOKBACK = timedelta(days=40)  # a job missed for weeks still catches up


def expire_points(deps: Deps) -> int:
    """Idempotent: the ledger key is per member per local day. Returns points written off."""

    def expire(session: Session, community: Community, local: datetime) -> int:
        today = local.date()
        return ledger.expire_in_community(session, id_of(community), today - LOOKBACK, today)

    total = each_community(deps, expire)
    if total:
        log.info("expired %d points", total)
    return total
