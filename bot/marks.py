"""Answered marks: an event this process answered is marked answered by one of the process's
next inbox writes (the next event stored once BATCH marks are due, all of them in one call),
or within ANSWERED_WITHIN, well inside the event's lease. A crash loses only marks: those
answers are sent again, in doubt, when their lease runs out.

    answered_later(deps, msg)          # after delivering
    count = write_marks(deps, tx)      # in an inbox transaction; then, once committed,
    written(deps, count)
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import datetime
from typing import Any

from handlers.context import Deps
from messages.types import Incoming
from models import events
from models.db import Direct

log = logging.getLogger(__name__)
ANSWERED_WITHIN = 0.2  # seconds: an answered mark waits at most this long to be written
BATCH = 16  # marks an inbox write carries once this many are due


class _Marks:
    """Events answered by this process whose mark is not written yet (a crash loses only
    marks: those answers are sent again, in doubt, when their lease runs out)."""

    def __init__(self) -> None:
        self.due: list[tuple[str, str, datetime]] = []
        self.loop: asyncio.AbstractEventLoop | None = None  # where a write is scheduled
        self.deadline = 0.0  # and when it runs (its loop's time)


_MARKS: weakref.WeakKeyDictionary[object, _Marks] = weakref.WeakKeyDictionary()


def _marks(deps: Deps) -> _Marks:
    found = _MARKS.get(deps.sessions)
    if found is None:
        found = _MARKS[deps.sessions] = _Marks()
    return found


def write_marks(deps: Deps, tx: Any, at_least: int = BATCH) -> int:
    """In an inbox transaction: the answered marks due, once `at_least` are; how many were
    written (forget them once committed)."""
    due = _marks(deps).due
    if not due or len(due) < at_least:
        return 0
    events.mark_all_answered(tx, due)
    return len(due)


def written(deps: Deps, count: int) -> None:
    del _marks(deps).due[:count]  # a timer left running finds nothing to write


def flush_answered(deps: Deps) -> None:
    """Write the answered marks due now (at a sweep, at a stop, when nothing came to carry them)."""
    if not _marks(deps).due:
        return
    try:
        with Direct(deps.sessions) as tx:
            count = write_marks(deps, tx, at_least=1)
            tx.commit()
        written(deps, count)
    except Exception:  # the database away for a moment: the next write or sweep carries them
        log.exception("answered marks not written yet")


def answered_later(deps: Deps, msg: Incoming) -> None:
    """Mark the event answered with a later inbox write, or within ANSWERED_WITHIN."""
    marks = _marks(deps)
    marks.due.append((msg.channel, msg.event_key, deps.clock()))
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        flush_answered(deps)
        return
    if marks.loop is not loop or loop.time() >= marks.deadline:  # none pending on this loop
        marks.loop, marks.deadline = loop, loop.time() + ANSWERED_WITHIN
        loop.call_later(ANSWERED_WITHIN, flush_answered, deps)
