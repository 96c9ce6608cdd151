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


def expire_in(session: Session, deps: Deps, community: Community, local: datetime) -> int:
    """One community's expired points written off (the scheduler's daily job)."""
    today = local.date()
    return ledger.expire_in_community(session, id_of(community), today - LOOKBACK, today)


def expire_points(deps: Deps) -> int:
    """Idempotent: the ledger key is per member per local day. Returns points written off."""
    total = each_community(deps, lambda s, c, local: expire_in(s, deps, c, local))
    if total:
        log.info("expired %d points", total)
    return total
