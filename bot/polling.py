"""Long polling that confirms an update to Telegram only once it is stored.

Telegram forgets the updates below the `offset` of the next getUpdates. PTB's own updater
asks again as soon as a batch is queued, so a crash could lose what it had fetched; here
the next getUpdates waits until every update of the batch is in the inbox (stored, or
stored with its answer: bot.light), and starts again from the first one that could not be
stored. Whatever comes after the storing (processing a slow command, sending) goes on
concurrently with the next poll.

    await polling.poll(channel, stop)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Update
from telegram.error import RetryAfter, TelegramError

if TYPE_CHECKING:
    from bot.telegram import TelegramChannel

POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates open while there is nothing new
RETRY_AFTER = 2.0  # seconds before polling again after a failure
MAX_TRIES = 5  # an update that cannot be stored this many times running is given up (logged)
log = logging.getLogger(__name__)


class Arrival:
    """One polled update on its way into the inbox."""

    def __init__(self) -> None:
        self.seen = False  # the channel took it as a message to store
        self.stored = asyncio.get_running_loop().create_future()

    def taken(self) -> None:
        self.seen = True

    def settle(self, stored: bool) -> None:
        if not self.stored.done():
            self.stored.set_result(stored)


ARRIVAL: contextvars.ContextVar[Arrival | None] = contextvars.ContextVar("arrival", default=None)


def taken() -> None:
    """The channel has a message to store for the update being polled (if it is)."""
    arrival = ARRIVAL.get()
    if arrival is not None:
        arrival.taken()


def stored() -> None:
    """It is in the inbox: the update may be confirmed."""
    arrival = ARRIVAL.get()
    if arrival is not None:
        arrival.settle(True)


async def poll(channel: TelegramChannel, stop: asyncio.Event,
               timeout: int = POLL_TIMEOUT) -> None:
    """Poll until `stop`; each batch confirmed once stored (see the module)."""
    offset: int | None = None
    work: set[asyncio.Task[None]] = set()
    failures: dict[int, int] = {}  # update id → failed attempts in a row
    stopping = asyncio.get_running_loop().create_task(stop.wait())
    while not stop.is_set():
        fetch = asyncio.get_running_loop().create_task(channel.app.bot.get_updates(
            offset=offset, timeout=timeout))
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not fetch.done():  # stopped while Telegram held the poll open
            fetch.cancel()
            break
        try:
            updates = fetch.result()
        except RetryAfter as limited:
            retry = limited.retry_after
            await _pause(stop, retry.total_seconds() if isinstance(retry, timedelta) else retry)
            continue
        except TelegramError as problem:
            log.warning("telegram: getUpdates failed (%s); again shortly", problem)
            await _pause(stop, RETRY_AFTER)
            continue
        if updates:
            offset = await _store(channel, updates, work, failures)
    stopping.cancel()
    if work:
        await asyncio.gather(*work, return_exceptions=True)


async def _store(channel: TelegramChannel, updates: tuple[Update, ...],
                 work: set[asyncio.Task[None]], failures: dict[int, int]) -> int:
    """Hand each update to the channel; the offset to confirm: past the batch, or the first
    update that could not be stored (asked for again, MAX_TRIES times at most: an update that
    can never be stored must not stop the bot)."""
    arrivals: list[Arrival] = []
    for update in updates:
        arrival = Arrival()
        arrivals.append(arrival)
        task = asyncio.get_running_loop().create_task(_one(channel, update, arrival))
        work.add(task)
        task.add_done_callback(work.discard)
    outcomes = [await arrival.stored for arrival in arrivals]
    for update, ok in zip(updates, outcomes, strict=True):
        if ok:
            failures.pop(update.update_id, None)
            continue
        tries = failures[update.update_id] = failures.get(update.update_id, 0) + 1
        if tries >= MAX_TRIES:
            log.error("telegram: update %s could not be stored %d times; given up",
                      update.update_id, tries)
            failures.pop(update.update_id)
            continue
        log.warning("telegram: update %s not stored; asked for again", update.update_id)
        await asyncio.sleep(RETRY_AFTER)
        return update.update_id
    return updates[-1].update_id + 1


async def _one(channel: TelegramChannel, update: Update, arrival: Arrival) -> None:
    ARRIVAL.set(arrival)
    try:
        await channel.app.process_update(update)
    finally:  # not taken: nothing to store (another kind of update, or not for us)
        arrival.settle(not arrival.seen)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
