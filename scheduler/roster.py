"""The roster (接龍): one message per group buy, edited on a timer, never one answer per '+1'.

A join bumps the group buy's `roster_rev`; this job publishes a changed roster at most once
per `min_interval` per group buy, inside the group's own rate budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.context import Deps
from messages.money import format_money
from messages.render import Renderer
from messages.types import Button
from models import communities, rosters
from models.db import UnitOfWork
from models.programme import programme_from
from models.tables import BuyStatus, GroupBuy
from models.types import id_of
from scheduler.delivery import reserve_direct

log = logging.getLogger(__name__)

# post(chat_id, message_id, text, buttons[, card=facts]) → the posted message's id
# chat, roster message id (None: post anew), text, buttons, card (a channel may draw it)
Post = Callable[[str, "str | None", str, tuple[Button, ...], Mapping[str, object]],
                Awaitable["str | None"]]


@dataclass(frozen=True)
class Roster:
    buy_id: int
    rev: int
    chat_id: str
    message_id: str | None
    text: str
    buttons: tuple[Button, ...]
    card: dict[str, object] = field(default_factory=dict)  # facts for a channel that draws cards


def render(session: Session, renderer: Renderer, buy: GroupBuy, now: datetime) -> Roster:
    community = communities.get(session, buy.community_id)
    assert community is not None
    rows, count, waiting = rosters.roster(session, id_of(buy))
    tz = ZoneInfo(community.timezone)
    closed = buy.status != BuyStatus.OPEN or now >= buy.deadline
    deadline = buy.deadline.astimezone(tz).strftime("%m-%d %H:%M")
    exclusive = (programme_from(community.programme).tier_name(buy.exclusive_tier,
                                                               community.default_locale)
                 if buy.exclusive_tier else None)
    text = renderer.render(
        community.default_locale, "roster", buy=buy, rows=rows, count=count, waiting=waiting,
        closed=closed, currency=community.currency, deadline=deadline, exclusive=exclusive,
    )
    buttons = () if closed else (Button("+1", f"/join 1 #{buy.number}"),)
    card: dict[str, object] = {
        "kind": "groupbuy", "number": buy.number, "title": buy.title,
        "price": format_money(buy.price, community.currency),
        "left": max(buy.stock - buy.allocated, 0) if buy.stock is not None else None,
        "stock": buy.stock, "taken": buy.allocated, "deadline": deadline,
        "joined": [[name, units] for name, units in rows], "count": count, "waiting": waiting,
        "closed": closed, "exclusive": exclusive,
    }
    return Roster(id_of(buy), buy.roster_rev, buy.chat_id, buy.roster_message_id, text, buttons,
                  card)


def due(deps: Deps, channel: str, min_interval: timedelta) -> list[Roster]:
    now = deps.clock()
    with UnitOfWork(deps.sessions) as uow:
        buys = rosters.due_rosters(uow.session, channel, now - min_interval, now=now)
        return [render(uow.session, deps.renderer, buy, now) for buy in buys]


def published(deps: Deps, roster: Roster, message_id: str | None) -> None:
    with UnitOfWork(deps.sessions) as uow:
        rosters.published(uow.session, roster.buy_id, rev=roster.rev, at=deps.clock(),
                          message_id=message_id)
        uow.commit()


async def publish(deps: Deps, channel: str, post: Post, min_interval: timedelta,
                  may_send: Callable[[str], bool]) -> int:
    """Post or edit every changed roster that the group's budget allows; return how many."""
    done = 0
    for roster in due(deps, channel, min_interval):
        if not may_send(roster.chat_id):
            continue
        message_id = await post(roster.chat_id, roster.message_id, roster.text, roster.buttons,
                                roster.card)
        published(deps, roster, message_id)
        done += 1
    return done


async def run(deps: Deps, channel: str, post: Post, stop: asyncio.Event,
              min_interval: timedelta = timedelta(seconds=5), every: float = 1.0) -> None:
    """Publish changed rosters until `stop`: at most one edit per group buy per interval,
    and only within the group's budget (shared with replies through the send log)."""

    def may_send(chat_id: str) -> bool:
        return reserve_direct(deps.sessions, channel, chat_id, True, deps.clock())

    while not stop.is_set():
        try:
            await publish(deps, channel, post, min_interval, may_send)
        except Exception:
            log.exception("roster round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
