"""A process that only elects and schedules, like `tuanbot run` without the platforms:

    python -m tests.scheduler_runner DATABASE_URL HOLDER LEASE_SECONDS HOME

with two test jobs declared next to the real ones: `test_tick` every 2 s, and `gap_write`,
run once at a time a test chooses (scheduler.jobs.run_once_at). Each writes an audit row
(action = the job's id, detail = "<period> <pid>"): the test counts them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from bot.app import bootstrap
from bot.settings import Settings
from models import communities
from scheduler.election import Elector
from scheduler.jobs import JOBS, Every, Job, Run, build_scheduler

TICK = 2


def write(run: Run, action: str) -> int:
    communities.audit(run.session, None, "scheduler", action, True, f"{run.period} {os.getpid()}")
    return 1


JOBS.extend([
    Job("test_tick", lambda run: write(run, "test_tick"), Every(seconds=TICK),
        per_community=False),
    Job("gap_write", lambda run: write(run, "gap_write"), Every(seconds=10**6),
        per_community=False),
])


async def main(url: str, holder: str, lease: float, home: str) -> None:
    app = bootstrap(Settings(database_url=url, home=Path(home), seed_demo=False), migrate=False)
    scheduler = build_scheduler(app.deps, app.engine)
    elector = Elector(app.deps.sessions, scheduler, app.deps.clock,
                      lease=timedelta(seconds=lease), holder=holder)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await elector.run(stop)
    app.engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
