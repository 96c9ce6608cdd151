"""The delivery worker for a steady stream: a claimed batch's slots planned in one
transaction, each message sent at its own moment.

Under the channel's pacing lock, each message of the batch takes the earliest slot the
shared send log allows (`take_slot`, which counts the slots just planned, future ones too);
a slot within `horizon` is logged and kept, a later one (the chat's own limit) postpones the
message to it. After the commit, each message waits for its moment, is marked 'sending' and
goes; one that could not leave within `lag` of its moment gives the slot up (postponed).
Other workers see the planned slots in the log, so together they keep the limits; a 429
stops what this batch has not sent yet. One send at a time is under way: a kill -9 leaves at
most one message in doubt. One transaction per batch instead of one per
message is what keeps a busy machine at the platform's pace.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from models import outbox, sendlog
from models.db import UnitOfWork
from models.rules.pacing import next_slot
from models.tables import OutboxMessage
from scheduler.delivery import DeliveryWorker

log = logging.getLogger(__name__)
# How `tuanbot run` builds its workers (bench/pacing.py measures these): each window 35 ms
# longer than the platform's, a moment missed by over 20 ms given up, 90 messages a batch.
PACE: dict[str, Any] = {"margin": timedelta(milliseconds=35), "lag": timedelta(milliseconds=20),
                        "batch": 90}


class PacedWorker(DeliveryWorker):
    """A DeliveryWorker that plans a batch's slots at once (multicast batches as before) and
    plans the next batch while the last one's moments are still coming (no gap between)."""

    def __init__(self, *args: Any, horizon: timedelta = timedelta(seconds=4),
                 ahead: timedelta = timedelta(seconds=1), **options: Any) -> None:
        super().__init__(*args, **options)
        self.horizon, self.ahead = horizon, ahead
        self.halted = False
        per_bot, window = self.limits.per_bot, self.limits.per_bot_window
        # evenly spread, not in the bursts the limit allows (they would arrive ragged)
        self.spacing = window / per_bot if per_bot > 0 else timedelta(0)
        self.flying: list[asyncio.Task[str]] = []
        self.one = asyncio.Lock()
        self.last: datetime | None = None  # the latest moment planned

    async def drain_once(self) -> int:
        """Plan the next batch once less than `ahead` of the planned ones is left; how many
        were sent meanwhile and planned now (0: nothing to do)."""
        if self.last is not None and self.flying:
            await asyncio.sleep(max(0.0, (self.last - self.ahead - self.clock()).total_seconds()))
        done = [task for task in self.flying if task.done()]
        self.flying = [task for task in self.flying if not task.done()]
        if not self.flying:
            self.halted = False
        sent = sum(task.result() == "sent" for task in done)
        return sent + await super().drain_once()

    async def deliver_claimed(self, claimed: list[OutboxMessage]) -> int:
        singles = [m for m in claimed if self.multicast is None or m.is_group]
        rest = [m for m in claimed if m not in singles]
        sent = await super().deliver_claimed(rest) if rest else 0
        async with self.one:  # never while a send is on its way: it would arrive late
            planned = await asyncio.to_thread(self._plan, singles)
        self.flying += [asyncio.create_task(self._at(m, slot)) for m, slot in planned]
        if planned:
            self.last = max(slot for _, slot in planned)
        return sent + len(planned)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await super().run(stop)
        finally:
            await self.run_out()

    async def run_out(self) -> int:
        """Wait for every planned send; how many were sent."""
        flying, self.flying = self.flying, []
        outcomes = await asyncio.gather(*flying, return_exceptions=True)
        self.halted = False
        return outcomes.count("sent")

    def _plan(self, messages: list[OutboxMessage]) -> list[tuple[OutboxMessage, datetime]]:
        """One transaction, two reads: a slot for each message within the horizon, logged;
        the others postponed to theirs (or all given back when the platform asked us to
        wait). The slots follow the pure rule (`next_slot`) over the log read once."""
        limits = self.limits
        with UnitOfWork(self.sessions) as uow:
            paused = sendlog.lock_pacing(uow.session, self.channel)
            now = self.clock()
            if paused is not None and paused > now:
                outbox.release(uow.session, messages)
                uow.commit()
                return []
            by_bot = sendlog.recent_sends(uow.session, self.channel, now,
                                          window=limits.per_bot_window,
                                          last=max(limits.per_bot, 1))
            start = max([now, *by_bot[-1:]])  # after what is planned already (by anyone)
            reach = max(limits.per_chat_window, limits.per_group_window)
            chats = sendlog.recent_sends_by_chat(uow.session, self.channel,
                                                 {m.chat_id for m in messages}, start - reach)
            planned: list[tuple[OutboxMessage, datetime]] = []
            for message in messages:
                to_chat = chats[message.chat_id]
                at = max(start, by_bot[-1] + self.spacing) if by_bot else start
                slot = next_slot(at, by_bot, to_chat, message.is_group, limits)
                if slot - now > self.horizon:
                    outbox.postpone(uow.session, message, slot)
                    continue
                by_bot.append(slot)
                to_chat.append(slot)
                sendlog.log_send(uow.session, self.channel, message.chat_id, message.is_group,
                                 slot)
                planned.append((message, slot))
            uow.commit()
        return planned

    async def _at(self, message: OutboxMessage, slot: datetime) -> str:
        """At its moment: marked 'sending', then the platform call (DeliveryWorker._attempt).

        One message at a time is 'sending' (from that mark to the record of its outcome), so a
        worker killed at any moment leaves at most one message in doubt."""
        await asyncio.sleep(max(0.0, (slot - self.clock()).total_seconds()))
        async with self.one:
            in_doubt = message.status == "sending"
            started = self._start(message, slot)  # one short UPDATE: no thread hop to wait for
            if started != "go":
                return started
            if in_doubt:
                log.warning("outbox %s in doubt: its lease ran out while it was being sent"
                            " (a crash?); sending it again", message.id)
            outcome = await self._attempt(message)
        self.halted = self.halted or outcome == "paused"
        return outcome

    def _start(self, message: OutboxMessage, slot: datetime) -> str:
        """'sending' now, or given up: a 429 meanwhile, or its moment passed by over `lag`."""
        in_doubt = message.status == "sending"
        with UnitOfWork(self.sessions) as uow:
            now = self.clock()
            if self.halted or now - slot > self.lag:
                outbox.postpone(uow.session, message, now, attempted=not in_doubt)
                uow.commit()
                return "late"
            if not outbox.start_sending(uow.session, message, now, self.lease):
                return "lost"
            uow.commit()
        return "go"

