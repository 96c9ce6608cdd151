"""Three scheduler processes on one database: one leads; kill -9 it and another takes over,
running the job that fell due in the gap exactly once (real processes, real database)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from models.db import make_engine
from models.migrate import upgrade
from models.tables import AuditLog, SchedulerLease
from scheduler.jobs import JOBSTORE_TABLE, JobStore, ThreadScheduler, run_once_at
from tests.crash_helpers import REPO, database, wait_until

LEASE = "5"  # seconds: a takeover soon, yet a busy machine's stalls do not pass the lease on


def rows(engine, action: str) -> list[tuple[str, str]]:
    """(period, pid) of each run the job wrote."""
    with engine.connect() as connection:
        details = connection.execute(
            select(AuditLog.detail).where(AuditLog.action == action)).scalars()
        return [tuple(d.split()) for d in details]  # type: ignore[misc]


def holder(engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(select(SchedulerLease.holder)).scalar_one_or_none()


def schedule_gap_job(url: str) -> None:
    """Another process (this test) adds a one-off job to the shared store, due at once."""
    engine = make_engine(url)
    scheduler = ThreadScheduler(
        jobstores={"default": JobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        timezone="UTC")
    scheduler.start(paused=True)
    run_once_at(scheduler, "gap_write", "gap", datetime.now(UTC))
    scheduler.shutdown(wait=False)
    engine.dispose()


def test_one_of_three_processes_schedules_and_a_killed_leader_is_replaced(tmp_path: Path):
    with database(tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        processes = {}
        for n in range(3):
            log = (tmp_path / f"p{n}.log").open("wb")
            processes[f"p{n}"] = subprocess.Popen(
                [sys.executable, "-m", "tests.scheduler_runner", url, f"p{n}", LEASE,
                 str(tmp_path / "home")], env=env, cwd=tmp_path, stdout=log,
                stderr=subprocess.STDOUT)

        def logs() -> str:
            return "\n".join(p.read_text() for p in sorted(tmp_path.glob("p*.log")))

        try:
            wait_until(lambda: len(rows(engine, "test_tick")) >= 3, "the leader ticks", log=logs)
            leader = holder(engine)
            assert leader in processes
            pid = str(processes[leader].pid)
            assert {p for _, p in rows(engine, "test_tick")} == {pid}  # only the leader ran it
            processes[leader].send_signal(signal.SIGKILL)
            processes[leader].wait(timeout=30)
            schedule_gap_job(url)  # due now, while nobody leads
            wait_until(lambda: holder(engine) not in (None, leader), "another takes over",
                       timeout=60, log=logs)
            wait_until(lambda: rows(engine, "gap_write"), "the job due in the gap runs", log=logs)
            successor = str(processes[str(holder(engine))].pid)
            after = len(rows(engine, "test_tick"))
            wait_until(lambda: len(rows(engine, "test_tick")) >= after + 3,
                       "the successor ticks on", log=logs)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                process.wait(timeout=30)
        assert len(rows(engine, "gap_write")) == 1  # once, not twice
        assert rows(engine, "gap_write")[0][1] != pid  # by a living process
        ticks = rows(engine, "test_tick")
        assert pid in {p for _, p in ticks} and successor in {p for _, p in ticks}
        assert max(Counter(period for period, _ in ticks).values()) == 1  # no period twice
        engine.dispose()
