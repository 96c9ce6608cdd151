"""Champions, on the 1st in the community's time zone (or within the month's first week, if the
job was down): last month's top distributor by confirmed sales, and on the first day of a
quarter the quarter's (季度最佳分銷商). Each is crowned once (a unique row per period), gets
the configured reward, hears it privately, and is announced in every group of the community
through the outbox at each group's pace. Commission is confirmed first, so the sales counted
are exactly those whose return window has passed."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, announce, notify
from models import champions, commission
from models.programme import programme_for
from models.rules import champions as rules
from models.rules.notify import Kind
from models.tables import Community
from models.types import id_of
from scheduler.each import each_community

log = logging.getLogger(__name__)
GRACE_DAYS = 7


def crown_champions(deps: Deps) -> int:
    """Returns how many champions were crowned."""

    def crown(session: Session, community: Community, local: datetime) -> int:
        if local.day > GRACE_DAYS:
            return 0
        programme, now, tz = programme_for(community), deps.clock(), local.tzinfo
        assert tz is not None
        commission.confirm(session, id_of(community), now, tz)
        mark = commission.watermark(session, id_of(community))
        crowned = 0
        for period in rules.ended(local.date()):
            reward = programme.champions.get(period.kind)
            if reward is None:
                continue
            done = champions.crown(session, community_id=id_of(community), period=period,
                                   reward=reward, mark=mark, programme=programme,
                                   today=local.date(), now=now)
            if done is None:
                continue
            row, winner = done
            facts: dict[str, Any] = {"period": period, "name": winner.display_name, "sales": row.sales,
                     "prize": reward}
            notify(session, deps, winner, Message("champion_won", **facts), Kind.SERVICE,
                   key=f"champion:{row.id}", community=community, now=now)
            announce(session, deps, community, Message("champion_announce", **facts),
                     key=f"champion:{row.id}", now=now)
            crowned += 1
        return crowned

    crowned = each_community(deps, crown)
    if crowned:
        log.info("%d champions crowned", crowned)
    return crowned
