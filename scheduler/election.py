"""One scheduler at a time, however many processes run: a lease row in the database.

Every process starts its scheduler paused on the shared job store. Every `lease / 3` each
one tries to take or renew the lease (`models.scheduling.acquire_lease`, one conditional
UPDATE: ours when free, expired or already ours). The holder resumes its scheduler; a
process that loses the lease (or cannot reach the database for most of its lease) pauses
its own. A holder killed with SIGKILL stops renewing, and another process takes over once
the lease has run out (30 s by default: well within a minute); the job store's next run
times make it catch up what was missed, once (coalesce), and each job's period record makes
a run the dead leader finished count as done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import uuid4

from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler

from models import scheduling
from models.db import SessionFactory, UnitOfWork
from scheduler.jobs import ensure_jobs

log = logging.getLogger(__name__)
LEASE = "scheduler"


class Elector:
    """Holds (or waits for) the scheduler lease and pauses or resumes the scheduler."""

    def __init__(self, sessions: SessionFactory, scheduler: BaseScheduler,
                 clock: Callable[[], datetime], *, lease: timedelta = timedelta(seconds=30),
                 holder: str | None = None) -> None:
        self.sessions, self.scheduler, self.clock, self.lease = sessions, scheduler, clock, lease
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self.leading = False
        self.renewed: datetime | None = None

    @property
    def every(self) -> float:
        return self.lease.total_seconds() / 3

    def tick(self) -> bool:
        """One round: take or renew the lease, then lead or stand by accordingly."""
        now = self.clock()
        try:
            with UnitOfWork(self.sessions) as uow:
                ours = scheduling.acquire_lease(uow.session, LEASE, self.holder, now, self.lease)
                uow.commit()
            if ours:
                self.renewed = now
        except Exception:
            log.exception("scheduler lease not renewed")
            # keep leading only while the lease we hold surely has not run out
            ours = self.leading and self.renewed is not None and \
                now - self.renewed < self.lease * 2 / 3
        if ours and not self.leading:
            ensure_jobs(self.scheduler)
            self.scheduler.resume()
            self.leading = True
            log.info("scheduler: %s leads", self.holder)
        elif not ours and self.leading:
            self.scheduler.pause()
            self.leading = False
            log.warning("scheduler: %s lost the lease; standing by", self.holder)
        elif ours:
            self.scheduler.wakeup()  # see jobs other processes added to the store
        return ours

    def _start(self) -> None:
        if self.scheduler.state != STATE_RUNNING:
            self.scheduler.start(paused=True)

    def _end(self) -> None:
        """A clean stop gives the lease up, so another process takes over at once."""
        if self.leading:
            self.scheduler.pause()
            self.leading = False
            with contextlib.suppress(Exception), UnitOfWork(self.sessions) as uow:
                scheduling.release_lease(uow.session, LEASE, self.holder, self.clock())
                uow.commit()
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=False)

    async def run(self, stop: asyncio.Event) -> None:
        """On the asyncio loop (an AsyncIOScheduler), until `stop` is set."""
        self._start()
        try:
            while not stop.is_set():
                self.tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.every)
        finally:
            self._end()

    def run_blocking(self, stop: threading.Event) -> None:
        """In a thread of its own (a BackgroundScheduler, the console), until `stop` is set."""
        self._start()
        try:
            while not stop.is_set():
                self.tick()
                stop.wait(self.every)
        finally:
            self._end()
