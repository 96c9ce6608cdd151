"""The light lane on the inbox's side: a read-only member command (handlers.dispatch.lane)
stored with its answer in one transaction, by the process about to deliver it.

    await light.answer_now(deps, msg, outlet, ready)   # long polling: at once, or as before
    replies = light.answer_at_once(deps, msg, lease, clear, also)   # None: `inbox.take` it
    light.spawn_delivery(deps, msg, replies, outlet, tasks)   # after a webhook's 200
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from bot.inbox import Outlet, deliver_all, process, take, to_payload
from bot.marks import answered_later, write_marks, written
from handlers import glance
from handlers.context import Deps
from handlers.dispatch import Lane, handle, lane
from handlers.glance import Clear
from messages.types import Incoming, Reply
from models.db import Direct, Runner

log = logging.getLogger(__name__)


def answer_at_once(deps: Deps, msg: Incoming, lease: timedelta, clear: Clear | None = None,
                   also: Callable[[Runner], None] | None = None,
                   found: Lane | None = None) -> list[Reply] | None:
    """A read-only member command (handlers.dispatch.lane) stored, handled and its answer
    kept in one transaction, for the process about to deliver that answer: a crash before the
    commit leaves no trace (as one before `take` does), one after it leaves the kept answer
    to the sweeper once `lease` runs out. None: not such a command (nothing written; `take`
    it); [] for a redelivery. `also`, `clear`: as for `take` and `Outlet`, in that order.
    `found`: the message's `lane`, when the caller has it."""
    found = found or lane(msg)
    if found is None or found.glance is None:
        return None
    with Direct(deps.sessions) as tx:
        done = glance.answer_in(tx, msg, found.args, found.glance, deps,
                                stored=(to_payload(msg), lease))
        if done is None:
            return None
        if not done.fresh:
            return []  # a redelivery: rolled back
        if also is not None:
            also(tx)
        replies = [clear(tx, msg, r) for r in done.replies] if clear else done.replies
        marked = write_marks(deps, tx)
        tx.commit()
    written(deps, marked)
    return replies


async def answer_now(deps: Deps, msg: Incoming, outlet: Outlet, ready: bool = False,
                     stored: Callable[[], None] | None = None) -> None:
    """An event the adapter handles as it arrives (long polling): a read-only command in one
    transaction (`answer_at_once`), a quick one stored by the transaction that handles it
    (handlers.dispatch.lane), anything else stored and claimed first, then processed.
    `ready`: the outlet's `prepare` has nothing to do for it. `stored`: called once the
    event is in the inbox (bot.polling confirms it to the platform then)."""
    found = lane(msg) if outlet.prepare is None or ready else None
    if found is not None:
        replies = answer_at_once(deps, msg, outlet.lease, outlet.clear, found=found)
        if replies is None:  # the full path, in the transaction that stores it
            replies = handle(msg, deps, arrival=(to_payload(msg), outlet.lease))
        if stored is not None:
            stored()
        if replies:
            await deliver_all(msg, replies, outlet.deliver)
            answered_later(deps, msg)
        return
    fresh = take(deps, msg, outlet.lease)
    if stored is not None:
        stored()
    if fresh:
        await process(deps, msg, outlet, claimed=True)


def spawn_delivery(deps: Deps, msg: Incoming, replies: list[Reply], outlet: Outlet,
                   tasks: set[asyncio.Task[bool]]) -> None:
    """Deliver an answer kept by `answer_at_once` after the response has gone."""
    async def deliver() -> bool:
        try:
            await deliver_all(msg, replies, outlet.deliver)
            answered_later(deps, msg)
        except Exception:
            log.exception("delivering the answer to %s event %s failed; sent again when its "
                          "lease runs out", msg.channel, msg.event_key)
        return True

    task = asyncio.get_running_loop().create_task(deliver())
    tasks.add(task)
    task.add_done_callback(tasks.discard)
