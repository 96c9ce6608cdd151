"""The inbox: every inbound event is stored before it is acknowledged, processed once, answered.

    inbox.accept(deps, msg)                      # durable before the HTTP 200, handled later
    inbox.take(deps, msg, lease)                 # durable and claimed, to be handled right
                                                 # away (before the 200, or while polling)
    inbox.spawn(deps, msg, outlet, tasks, claimed=True)   # after the 200: handle, deliver
    await inbox.sweeper(deps, outlets, stop)     # at start-up, then every few seconds

A worker claims an event with a lease (one conditional UPDATE: of two workers, one wins).
The handler keeps its answer on the event in its own transaction; once the adapter has
delivered it the event is answered: that mark is written with the process's next inbox
write (the next event stored), or within ANSWERED_WITHIN when none comes, well inside the
lease. A worker that dies leaves its lease to run out: the
sweeper then processes the event, or, when it was processed, sends the kept answer again
(logged as "in doubt": it may have left before the crash). Replies an adapter leaves to the
outbox carry a dedupe key made from the event, so a second delivery does not queue them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from bot.marks import answered_later, flush_answered, write_marks, written
from handlers.context import Deps
from handlers.dispatch import MAX_INBOUND, handle
from handlers.glance import Clear
from messages.records import reply_from_record
from messages.types import Incoming, Reply
from models import events
from models.db import Direct, Runner, UnitOfWork

log = logging.getLogger(__name__)
Deliver = Callable[[Incoming, Reply], Awaitable[None]]
Prepare = Callable[[Incoming], Awaitable[Incoming | None]]
Handler = Callable[[Incoming, Deps], list[Reply]]
LEASE = timedelta(seconds=30)
SWEEP_EVERY = 2.0  # seconds between sweeps (at most; a third of a short lease)
MAX_ATTEMPTS = 5  # claims of one event before it is given up (answered with nothing)
MAX_ID = 64  # the longest chat or user id we keep (LINE's are 33 characters)
DEDUPE = "dedupe"  # the hint naming a reply's outbox dedupe key


@dataclasses.dataclass(frozen=True)
class Outlet:
    """How one channel answers: deliver a reply; prepare an event first (look up a name,
    fetch a file), None to drop it; the lease its workers hold an event for."""

    deliver: Deliver
    prepare: Prepare | None = None
    lease: timedelta = LEASE
    clear: Clear | None = None  # reserve an answer's send in the transaction that keeps it


_FIELDS = tuple(f.name for f in dataclasses.fields(Incoming))  # flat: str, bool or None


def to_payload(msg: Incoming) -> dict[str, object]:
    """The event as stored; a text longer than any command is kept only as long as it takes
    to know that (the handler answers "too long")."""
    payload = {name: getattr(msg, name) for name in _FIELDS}
    payload["text"] = msg.text[:MAX_INBOUND + 1]
    return payload


def from_payload(payload: Mapping[str, Any]) -> Incoming:
    return Incoming(**{k: v for k, v in payload.items() if k in _FIELDS})


def answerable(msg: Incoming) -> bool:
    """Text a handler may act on; nothing else is stored (empty, longer than any command in a
    group, where it is chatter, or, with one log line, ids no platform gives: a malformed
    event). In private an overlong text is answered "too long". NUL and broken unicode never
    get here: `Incoming` cleans them at the edge."""
    if not msg.text.strip() or (msg.is_group and len(msg.text) > MAX_INBOUND):
        return False
    if max(len(msg.chat), len(msg.sender)) > MAX_ID or len(msg.event_key) > 128:
        log.info("%s event %r ignored: malformed ids", msg.channel, msg.event_key[:64])
        return False
    return True


def accept(deps: Deps, msg: Incoming) -> bool:
    """Record the event durably; False for a redelivery of an event already stored."""
    with Direct(deps.sessions) as tx:
        fresh = events.accept(tx, msg.channel, msg.event_key, to_payload(msg), deps.clock())
        marked = write_marks(deps, tx)
        tx.commit()
    written(deps, marked)
    return fresh


def take(deps: Deps, msg: Incoming, lease: timedelta,
         also: Callable[[Runner], None] | None = None) -> bool:
    """Record the event durably, claimed for `lease` by this process, which handles it next
    (`process(..., claimed=True)`); False for a redelivery. A crash before it is answered
    leaves the lease to run out: then the sweeper takes it, as it does a stored event.
    `also`: more of the adapter's own state, written in the same transaction when fresh."""
    with Direct(deps.sessions) as tx:
        fresh = events.take(tx, msg.channel, msg.event_key, to_payload(msg), deps.clock(), lease)
        if fresh and also is not None:
            also(tx)
        marked = write_marks(deps, tx)
        tx.commit()
    written(deps, marked)
    return fresh


def claim(deps: Deps, channel: str, event_key: str, lease: timedelta) -> events.Claim | None:
    with Direct(deps.sessions) as tx:
        taken = events.claim(tx, channel, event_key, deps.clock(), lease)
        tx.commit()
        return taken


def handle_claimed(deps: Deps, msg: Incoming, handler: Handler = handle,
                   clear: Clear | None = None) -> list[Reply]:
    """Handle a claimed event. The handler keeps its answer on the event in the transaction
    that processes it (`handlers.dispatch.handle` does, also for "too long" and its polite
    error), so a crash after the answer left sends it again rather than handle the event
    again. No answer needs no keeping: the event is marked processed when it is answered.
    `clear`: the outlet's, for a read-only command answered in one transaction."""
    return handle(msg, deps, clear=clear) if handler is handle else handler(msg, deps)


def answered(deps: Deps, msg: Incoming) -> None:
    with Direct(deps.sessions) as tx:
        events.mark_answered(tx, msg.channel, msg.event_key, deps.clock())
        tx.commit()


def keyed(msg: Incoming, part: int | str, reply: Reply) -> Reply:
    """The reply with an outbox dedupe key made from its event (and its place in the answer)."""
    digest = hashlib.sha256(f"{msg.channel}\0{msg.event_key}".encode()).hexdigest()[:40]
    return dataclasses.replace(reply, hints={**reply.hints, DEDUPE: f"in:{digest}:{part}"})


async def deliver_all(msg: Incoming, replies: list[Reply], deliver: Deliver) -> None:
    for index, reply in enumerate(replies):
        await deliver(msg, keyed(msg, index, reply))


FRESH = events.Claim(None, False, [], 1)  # what `take` claimed: new, its first attempt


async def process(deps: Deps, msg: Incoming, outlet: Outlet | Deliver,
                  claimed: bool = False) -> bool:
    """Claim a stored event, handle it (or send its kept answer), mark it answered.
    `claimed`: `take` claimed it already.

    False when another worker holds it. Never raises: a failure is logged and the event
    waits for its lease to run out.
    """
    outlet = outlet if isinstance(outlet, Outlet) else Outlet(outlet)
    try:
        taken = FRESH if claimed else claim(deps, msg.channel, msg.event_key, outlet.lease)
        if taken is None:
            return False
        await _work(deps, msg, taken, outlet)
        return True
    except Exception:
        log.exception("processing %s event %s failed; retried when its lease runs out",
                      msg.channel, msg.event_key)
        return True


async def _work(deps: Deps, msg: Incoming, taken: events.Claim, outlet: Outlet) -> None:
    if taken.attempts > MAX_ATTEMPTS:
        log.error("%s event %s failed %d times; given up", msg.channel, msg.event_key,
                  taken.attempts - 1)
    elif taken.processed:
        log.warning("%s event %s: its answer is sent again (in doubt: it may have left "
                    "before the last stop)", msg.channel, msg.event_key)
        await deliver_all(msg, [reply_from_record(r) for r in taken.replies], outlet.deliver)
    else:
        ready = await outlet.prepare(msg) if outlet.prepare is not None else msg
        replies = handle_claimed(deps, ready, clear=outlet.clear) if ready is not None else []
        await deliver_all(ready or msg, replies, outlet.deliver)
    answered_later(deps, msg)


def spawn(deps: Deps, msg: Incoming, outlet: Outlet | Deliver,
          tasks: set[asyncio.Task[bool]], claimed: bool = False) -> None:
    """Process after the response has gone; keep a reference so the task is not collected."""
    task = asyncio.get_running_loop().create_task(process(deps, msg, outlet, claimed))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def recover(deps: Deps, outlets: Mapping[str, Outlet | Deliver],
                  unclaimed_for: timedelta = timedelta(0)) -> int:
    """Process (or answer again) the stored events nobody holds: those whose lease ran out,
    and those never claimed for `unclaimed_for` (at start-up: all of them). How many."""
    done = 0
    flush_answered(deps)  # this process's own answered events are not due
    while True:
        with UnitOfWork(deps.sessions) as uow:
            now = deps.clock()
            due = events.unanswered(uow.session, now, now - unclaimed_for)
        found = [(channel, key) for channel, key in due if channel in outlets]
        taken = [await _recover_one(deps, channel, key, outlets[channel])
                 for channel, key in found]
        done += sum(taken)
        if len(due) < 100 or not any(taken):
            flush_answered(deps)  # a sweep writes the marks of what it answered
            return done


async def _recover_one(deps: Deps, channel: str, key: str, outlet: Outlet | Deliver) -> bool:
    outlet = outlet if isinstance(outlet, Outlet) else Outlet(outlet)
    try:
        taken = claim(deps, channel, key, outlet.lease)
        if taken is None:
            return False  # another worker was quicker
        await _work(deps, from_payload(taken.payload or {}), taken, outlet)
    except Exception:
        log.exception("recovering %s event %s failed; retried when its lease runs out",
                      channel, key)
    return True


async def sweeper(deps: Deps, outlets: Mapping[str, Outlet], stop: asyncio.Event) -> None:
    """At start-up every stored event nobody holds; then, every few seconds, those whose
    worker died (lease ran out) or that nobody claimed within a lease."""
    lease = min((o.lease for o in outlets.values()), default=LEASE)
    every = min(SWEEP_EVERY, lease.total_seconds() / 3)
    recovered = await recover(deps, outlets)
    if recovered:
        log.info("processed %d events accepted before the last stop", recovered)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if not stop.is_set():
            try:
                await recover(deps, outlets, unclaimed_for=lease)
            except Exception:  # the database away for a moment: sweep again next time
                log.exception("inbox sweep failed")
