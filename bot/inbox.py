"""Webhook inbox: store the event, answer 200, process it after; recover what a crash left.

    accepted = await inbox.accept(deps, msg)        # durable before the HTTP 200
    background: await inbox.process(deps, msg, send) # claims it (exactly once) and replies
    at start-up: await inbox.recover(deps, {"line": send_line, ...})
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from handlers.context import Deps
from handlers.dispatch import handle
from messages.types import Incoming, Reply
from models import events
from models.db import UnitOfWork

log = logging.getLogger(__name__)
Deliver = Callable[[Incoming, Reply], Awaitable[None]]


def to_payload(msg: Incoming) -> dict[str, object]:
    return dataclasses.asdict(msg)


def from_payload(payload: Mapping[str, object]) -> Incoming:
    names = {f.name for f in dataclasses.fields(Incoming)}
    return Incoming(**{k: v for k, v in payload.items() if k in names})  # type: ignore[arg-type]


def accept(deps: Deps, msg: Incoming) -> bool:
    """Record the event durably; False for a redelivery of an event already stored."""
    with UnitOfWork(deps.sessions) as uow:
        fresh = events.accept(uow.session, msg.channel, msg.event_key, to_payload(msg),
                              deps.clock())
        uow.commit()
        return fresh


async def process(deps: Deps, msg: Incoming, deliver: Deliver) -> None:
    """Handle a stored event (the handler claims it) and deliver what it answers."""
    try:
        replies = handle(msg, deps)
        if not replies:  # ignored (chatter) or already handled: either way it is processed
            with UnitOfWork(deps.sessions) as uow:
                events.first_delivery(uow.session, msg.channel, msg.event_key, deps.clock())
                uow.commit()
        for reply in replies:
            await deliver(msg, reply)
    except Exception:
        log.exception("processing %s event %s failed", msg.channel, msg.event_key)


def spawn(deps: Deps, msg: Incoming, deliver: Deliver, tasks: set[asyncio.Task[None]]) -> None:
    """Process after the response has gone; keep a reference so the task is not collected."""
    task = asyncio.get_running_loop().create_task(process(deps, msg, deliver))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def recover(deps: Deps, deliverers: Mapping[str, Deliver],
                  older_than: timedelta = timedelta(seconds=30)) -> int:
    """Process events accepted before a crash and never processed. Returns how many."""
    with UnitOfWork(deps.sessions) as uow:
        stale = events.unprocessed(uow.session, deps.clock() - older_than)
        pending = [(row.channel, from_payload(row.payload or {})) for row in stale]
    done = 0
    for channel, msg in pending:
        deliver = deliverers.get(channel)
        if deliver is not None:
            await process(deps, msg, deliver)
            done += 1
    return done
