"""A platform stopped sending (LINE's monthly quota used up): every community's owner is told
once, as a SERVICE message through notify (its dedupe key: per channel, owner and month)."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.context import Deps
from handlers.notify import Message, notify
from models import communities
from models.db import UnitOfWork
from models.rules.notify import Kind

log = logging.getLogger(__name__)
PLATFORMS = {"telegram": "Telegram", "line": "LINE", "wechat": "WeChat", "console": "console"}


def tell_sending_stopped(deps: Deps, channel: str, until: datetime) -> int:
    """Queue the notice to each owner (on another platform when they have one); how many."""
    told = 0
    with UnitOfWork(deps.sessions) as uow:
        for community, owner in communities.owners(uow.session):
            local = until.astimezone(ZoneInfo(community.timezone))
            message = Message("sending_stopped", platform=PLATFORMS.get(channel, channel),
                              until=local.date())
            prefer = next((c for c in PLATFORMS if c != channel), None)
            told += notify(uow.session, deps, owner, message, Kind.SERVICE, community=community,
                           key=f"stopped:{channel}:{owner.id}:{until:%Y-%m}", prefer=prefer)
        uow.commit()
    log.warning("%s stopped until %s: %d owners told", channel, until, told)
    return told
