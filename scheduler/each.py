"""Jobs work community by community: one transaction each, in the community's time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.context import Deps
from models import communities
from models.db import UnitOfWork
from models.tables import Community

Work = Callable[[Session, Community, datetime], int]


def each_community(deps: Deps, work: Work) -> int:
    """Run `work(session, community, local_now)` per community, committing each; the sum."""
    with UnitOfWork(deps.sessions) as uow:
        community_ids = communities.ids(uow.session)
    total = 0
    for community_id in community_ids:
        with UnitOfWork(deps.sessions) as uow:
            community = communities.get(uow.session, community_id)
            if community is None:
                continue
            local = deps.clock().astimezone(ZoneInfo(community.timezone))
            total += work(uow.session, community, local)
            uow.commit()
    return total
