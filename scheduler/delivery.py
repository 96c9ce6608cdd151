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

from sqlmodel import Session

from messages.types import Reply, from_body
from models import events, members
from models.db import SessionFactory, UnitOfWork
from models.rules.pacing import Limits, next_slot
from models.tables import OutboxMessage

log = logging.getLogger(__name__)

Send = Callable[[str, bool, Reply], Awaitable[None]]
LIMITS = {"telegram": Limits()}


class RateLimited(Exception):
    """The platform asked us to wait (Telegram's 429 retry_after)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class Undeliverable(Exception):
    """This message can never be delivered (blocked the bot, chat gone): drop it, log it."""


def slot_for(session: Session, channel: str, chat_id: str, is_group: bool, now: datetime,
             limits: Limits) -> datetime:
    """When the next message to this chat may leave, from the shared send log."""
    window = limits.per_group_window if is_group else limits.per_chat_window
    return next_slot(
        now,
        events.recent_sends(session, channel, now, window=limits.per_bot_window),
        events.recent_sends(session, channel, now, chat_id, window=window),
        is_group,
        limits,
    )


def reserve_direct(sessions: SessionFactory, channel: str, chat_id: str, is_group: bool,
                   now: datetime, limits: Limits | None = None) -> bool:
    """May a reply leave right now? If so the send is logged, so pushes count it too."""
    with UnitOfWork(sessions) as uow:
        limits = limits or LIMITS.get(channel, Limits())
        if slot_for(uow.session, channel, chat_id, is_group, now, limits) > now:
            return False
        events.log_send(uow.session, channel, chat_id, is_group, now)
        uow.commit()
        return True


class DeliveryWorker:
    def __init__(
        self, sessions: SessionFactory, channel: str, send: Send,
        clock: Callable[[], datetime], *, limits: Limits | None = None, batch: int = 30,
        lease: timedelta = timedelta(seconds=60), idle: float = 0.2,
    ) -> None:
        self.sessions, self.channel, self.send, self.clock = sessions, channel, send, clock
        self.limits = limits or LIMITS.get(channel, Limits())
        self.batch, self.lease, self.idle = batch, lease, idle
        self.paused_until: datetime | None = None

    async def drain_once(self) -> int:
        """Send what is due now and fits the limits; return how many messages left."""
        now = self.clock()
        if self.paused_until and now < self.paused_until:
            return 0
        with UnitOfWork(self.sessions) as uow:
            claimed = events.claim_due(uow.session, self.channel, now, self.batch, self.lease)
            uow.commit()
        sent = 0
        for index, message in enumerate(claimed):
            outcome = await self._deliver(message)
            if outcome == "paused":
                with UnitOfWork(self.sessions) as uow:
                    events.release(uow.session, [m.id for m in claimed[index + 1:]])  # type: ignore[misc]
                    uow.commit()
                break
            sent += outcome == "sent"
        return sent

    async def _deliver(self, message: OutboxMessage) -> str:
        with UnitOfWork(self.sessions) as uow:
            row = uow.session.get(OutboxMessage, message.id)
            assert row is not None
            now = self.clock()
            slot = slot_for(uow.session, self.channel, row.chat_id, row.is_group, now, self.limits)
            if slot > now:
                events.postpone(uow.session, row, slot)
                uow.commit()
                return "later"
            outcome = await self._attempt(uow, row)
            uow.commit()
            return outcome

    async def _attempt(self, uow: UnitOfWork, row: OutboxMessage) -> str:
        try:
            await self.send(row.chat_id, row.is_group, from_body(row.body))
        except RateLimited as limited:
            until = self.clock() + timedelta(seconds=limited.retry_after)
            self.paused_until = until
            events.postpone(uow.session, row, until, str(limited))
            log.warning("%s asked to wait %.1fs", self.channel, limited.retry_after)
            return "paused"
        except Undeliverable as gone:
            events.fail(uow.session, row, str(gone))
            if not row.is_group:  # blocked the bot: stop pushing there until they start it again
                members.mark_private_unreachable(uow.session, self.channel, row.chat_id)
            log.info("outbox %s dropped: %s", row.id, gone)
            return "failed"
        except Exception as error:  # network trouble: back off and try again later
            backoff = timedelta(seconds=min(300, 2 ** (row.attempts + 1)))
            events.postpone(uow.session, row, self.clock() + backoff, repr(error), count_attempt=True)
            log.exception("outbox %s failed; retrying in %s", row.id, backoff)
            return "retry"
        events.mark_sent(uow.session, row, self.clock())
        return "sent"

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
        rows = events.claim_due(uow.session, channel, now, 1000, timedelta(seconds=60))
        for row in rows:
            events.mark_sent(uow.session, row, now)
        uow.commit()
        return rows
