"""The delivery worker: drains the outbox at each platform's pace, survives crashes and 429s.

Everything it needs to remember (what is queued, what left when) is in the database, so a
restart, or a second worker on PostgreSQL, continues where the last one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import uuid4

from messages.records import reply_from_record
from messages.types import Reply
from models import outbox, reachability, sendlog
from models.db import SessionFactory, UnitOfWork
from models.rules.pacing import Limits
from models.tables import OutboxMessage
from scheduler.errors import QuotaExhausted, RateLimited, Undeliverable
from scheduler.slots import LIMITS, NONE, reserve_direct, take_slot, unlimited, widened
from scheduler.together import together, with_retry_key

log = logging.getLogger(__name__)
# the adapters import the errors and the limits from here
__all__ = ["LIMITS", "NONE", "DeliveryWorker", "QuotaExhausted", "RateLimited", "Undeliverable",
           "reserve_direct", "take_all", "take_slot", "unlimited", "widened"]

Send = Callable[[str, bool, Reply], Awaitable[None]]
# the same reply to many private chats in one call (LINE multicast, at most 500)
Multicast = Callable[[list[str], Reply], Awaitable[object]]
KEYED = frozenset({"line"})  # platforms that take a retry key with a push (X-Line-Retry-Key)
OnStop = Callable[[str, datetime], object]  # channel, until: tell the leaders once
class DeliveryWorker:
    """Claims due messages, reserves a slot for each (logged and committed), then sends it.

    The reservation happens under the channel's pacing lock, never across the platform call;
    the 429 pause lives in the same pacing row, so every worker (and a restarted one) obeys it.
    A send leaves within `lag` of its reserved moment or not at all (it is reserved again).
    """

    def __init__(
        self, sessions: SessionFactory, channel: str, send: Send,
        clock: Callable[[], datetime], *, limits: Limits | None = None, batch: int = 30,
        lease: timedelta = timedelta(seconds=60), idle: float = 0.2,
        lag: timedelta = timedelta(milliseconds=250), multicast: Multicast | None = None,
        on_stop: OnStop | None = None, margin: timedelta = timedelta(0),
    ) -> None:
        self.sessions, self.channel, self.send, self.clock = sessions, channel, send, clock
        self.limits = widened(limits or LIMITS.get(channel, Limits()), margin)
        self.batch, self.lease, self.idle, self.lag = batch, lease, idle, lag
        self.multicast, self.on_stop = multicast, on_stop

    async def drain_once(self) -> int:
        """Send what is due now and fits the limits; return how many messages left."""
        now = self.clock()
        with UnitOfWork(self.sessions) as uow:
            paused = sendlog.paused_until(uow.session, self.channel)
            if paused is not None and now < paused:
                return 0
            claimed = outbox.claim_due(uow.session, self.channel, now, self.batch, self.lease)
            uow.commit()
        return await self.deliver_claimed(claimed)

    async def deliver_claimed(self, claimed: list[OutboxMessage]) -> int:
        """Each claimed message (or multicast batch) in turn: reserve its slot, send it."""
        sent = 0
        batches = together(claimed) if self.multicast is not None else [[m] for m in claimed]
        for index, batch in enumerate(batches):
            outcome = await (self._deliver(batch[0]) if len(batch) == 1 else
                             self._deliver_together(batch))
            if outcome == "paused":
                with UnitOfWork(self.sessions) as uow:
                    outbox.release(uow.session, [m for rest in batches[index:] for m in rest])
                    uow.commit()
                break
            sent += len(batch) if outcome == "sent" else 0
        return sent

    async def _deliver(self, message: OutboxMessage) -> str:
        in_doubt = message.status == "sending"
        outcome, reserved = self._reserve(message)
        if outcome != "go":
            return outcome
        if self.clock() - reserved > self.lag:  # a slow commit, a busy machine: the slot is gone
            with UnitOfWork(self.sessions) as uow:  # its logged send stays: that only slows others
                outbox.postpone(uow.session, message, reserved, attempted=not in_doubt)
                uow.commit()
            return "late"
        if in_doubt:
            log.warning("outbox %s in doubt: its lease ran out while it was being sent (a crash?);"
                        " sending it again", message.id)
        return await self._attempt(message)

    def _reserve(self, message: OutboxMessage) -> tuple[str, datetime]:
        """Check the windows, then again under the pacing lock; log the send, mark 'sending'.

        A window found full without the lock stays full (sends are only ever added, a pause
        only ever extended), so only a send that may leave waits for the lock.
        """
        with UnitOfWork(self.sessions) as uow:
            for read_pause in (sendlog.paused_until, sendlog.lock_pacing):  # peek, then lock
                paused = read_pause(uow.session, self.channel)
                now, slot = take_slot(uow.session, self.channel, message.chat_id,
                                      message.is_group, self.clock(), self.limits)
                if paused is not None and paused > now:
                    return "paused", now
                if slot > now:
                    outbox.postpone(uow.session, message, slot)
                    uow.commit()
                    return "later", now
            if not outbox.start_sending(uow.session, message, now, self.lease):
                return "lost", now  # the lease ran out and another worker has it
            sendlog.log_send(uow.session, self.channel, message.chat_id, message.is_group, now)
            uow.commit()
            return "go", now

    async def _attempt(self, message: OutboxMessage) -> str:
        """The platform call, outside any transaction; then its outcome, in one."""
        try:
            reply = with_retry_key(message) if self.channel in KEYED else \
                reply_from_record(message.body)
            await self.send(message.chat_id, message.is_group, reply)
        except QuotaExhausted as used_up:
            self._stop(used_up, [message])
            return "paused"
        except RateLimited as limited:
            until = self.clock() + timedelta(seconds=limited.retry_after)
            with UnitOfWork(self.sessions) as uow:
                sendlog.pause(uow.session, self.channel, until)
                outbox.postpone(uow.session, message, until, str(limited), attempted=True)
                uow.commit()
            log.warning("%s asked to wait %.1fs", self.channel, limited.retry_after)
            return "paused"
        except Undeliverable as gone:
            with UnitOfWork(self.sessions) as uow:
                outbox.fail(uow.session, message, str(gone))
                if not message.is_group:  # blocked the bot: no pushes there until they start it
                    reachability.mark_private_unreachable(uow.session, self.channel, message.chat_id)
                uow.commit()
            log.info("outbox %s dropped: %s", message.id, gone)
            return "failed"
        except Exception as error:  # network trouble: back off and try again later
            backoff = timedelta(seconds=min(300, 2 ** (message.attempts + 1)))
            with UnitOfWork(self.sessions) as uow:
                outbox.postpone(uow.session, message, self.clock() + backoff, repr(error),
                                count_attempt=True, attempted=True)
                uow.commit()
            log.exception("outbox %s failed; retrying in %s", message.id, backoff)
            return "retry"
        await self._record_sent(message)
        return "sent"

    async def _record_sent(self, message: OutboxMessage) -> None:
        self._mark_sent(message)

    def _mark_sent(self, message: OutboxMessage) -> None:
        with UnitOfWork(self.sessions) as uow:
            if not outbox.mark_sent(uow.session, message, self.clock()):
                log.warning("outbox %s sent after its lease ran out", message.id)
            uow.commit()

    def _stop(self, used_up: QuotaExhausted, messages: list[OutboxMessage]) -> None:
        """Stop the channel until the quota starts anew (recorded; not a retry loop); the
        worker that records it tells the leaders, once."""
        now = self.clock()
        until = used_up.until(now)
        with UnitOfWork(self.sessions) as uow:
            first = sendlog.stop(uow.session, self.channel, until, used_up.reason, now)
            for message in messages:
                outbox.postpone(uow.session, message, until, used_up.reason, attempted=True)
            uow.commit()
        log.error("%s: %s; no pushes until %s", self.channel, used_up.reason, until)
        if first and self.on_stop is not None:
            self.on_stop(self.channel, until)

    async def _deliver_together(self, batch: list[OutboxMessage]) -> str:
        """One multicast for messages with the same body, under one slot and one retry key."""
        key = batch[0].retry_key if all(m.retry_key == batch[0].retry_key for m in batch) \
            else str(uuid4())
        with UnitOfWork(self.sessions) as uow:
            paused = sendlog.lock_pacing(uow.session, self.channel)
            now, slot = take_slot(uow.session, self.channel, "multicast", False, self.clock(),
                                  self.limits)
            if (paused is not None and paused > now) or slot > now:
                return "paused"
            started = [m for m in batch if outbox.start_sending(uow.session, m, now, self.lease,
                                                                retry_key=key)]
            sendlog.log_send(uow.session, self.channel, "multicast", False, now)
            uow.commit()
        assert self.multicast is not None
        try:
            await self.multicast([m.chat_id for m in started], with_retry_key(started[0], key))
        except QuotaExhausted as used_up:
            self._stop(used_up, started)
            return "paused"
        except (RateLimited, Undeliverable) as refused:
            return self._not_accepted(started, refused)
        except Exception as error:  # unknown outcome: again later, with the same key
            with UnitOfWork(self.sessions) as uow:
                for m in started:
                    outbox.postpone(uow.session, m, self.clock() + timedelta(seconds=5),
                                    repr(error), count_attempt=True)
                uow.commit()
            log.exception("multicast of %d failed; retrying with its key", len(started))
            return "retry"
        with UnitOfWork(self.sessions) as uow:
            for m in started:
                outbox.mark_sent(uow.session, m, self.clock())
            uow.commit()
        return "sent"

    def _not_accepted(self, started: list[OutboxMessage],
                      refused: RateLimited | Undeliverable) -> str:
        """A multicast refused (429, 4xx): each message goes its own way again, with a
        fresh retry key (the shared one was never accepted)."""
        wait = refused.retry_after if isinstance(refused, RateLimited) else 0.0
        until = self.clock() + timedelta(seconds=wait)
        with UnitOfWork(self.sessions) as uow:
            if isinstance(refused, RateLimited):
                sendlog.pause(uow.session, self.channel, until)
            for m in started:
                outbox.postpone(uow.session, m, until, str(refused), attempted=True,
                                count_attempt=True, retry_key=str(uuid4()))
            uow.commit()
        return "paused" if isinstance(refused, RateLimited) else "retry"

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until `stop` is set; an error in one round never ends the loop."""
        while not stop.is_set():
            try:
                sent = await self.drain_once()
            except Exception:
                log.exception("delivery round failed")
                sent = 0
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.idle)


def take_all(sessions: SessionFactory, channel: str, now: datetime) -> list[OutboxMessage]:
    """For channels without limits (the console): everything due, marked sent at once."""
    with UnitOfWork(sessions) as uow:
        rows = outbox.claim_due(uow.session, channel, now, 1000, timedelta(seconds=60))
        for row in rows:
            outbox.mark_sent(uow.session, row, now)
            sendlog.log_send(uow.session, channel, row.chat_id, row.is_group, now)
        uow.commit()
        return rows
