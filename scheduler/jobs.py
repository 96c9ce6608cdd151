"""The scheduler's jobs, declared once, and the APScheduler 3 that runs them.

    JOBS = [Job("expire_points", expire_in, Daily(hour=1)), ...]

Add one entry to JOBS for a new job. A job's work gets a `Run` (session, deps, the
community and its local time) and returns a count; it runs in one transaction with the
record of its period (`models.scheduling.claim_period`), so a period is done once however
often the scheduler fires or a takeover repeats it. `Daily(hour=H)`: once a local day per
community, from H o'clock in the community's time zone (checked every few minutes, a missed
day caught up once). `Every(seconds=N)`: once per N-second slot, per community or once for
the whole deployment (`per_community=False`).

The job store is the project's database (APScheduler's SQLAlchemyJobStore), so every
process sees the same schedule; each starts its scheduler paused and only the elected
leader (scheduler.election) resumes it. A stored job is `run_job` with the job's id, a
plain string: the dependencies are bound in the running process by the composition root
(`build_scheduler(deps, engine)`), never pickled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers.context import Deps
from models import communities, scheduling, sendlog
from models.db import UnitOfWork
from models.tables import Community
from models.tables_scheduler import JOBSTORE_TABLE
from scheduler.automations import (
    nudge_tiers,
    refresh_tags,
    remind_expiring_points,
    welcome_new_members,
    win_back,
)
from scheduler.campaigns import run_due_campaigns
from scheduler.champions import crown_champions
from scheduler.distribution import confirm_commissions, review_distributors, settle_month
from scheduler.expiry import expire_in
from scheduler.pickup import after_close_in
from scheduler.reminders import remind_in
from scheduler.retention import apply_retention
from scheduler.tiers import evaluate_in

log = logging.getLogger(__name__)
UTC = ZoneInfo("UTC")
HOUR = 3600


@dataclass(frozen=True)
class Run:
    """What a job's work gets: its transaction, the deps, the community (None for a job of
    the whole deployment), the time there, the period it does, and the key of a one-off run
    ('' otherwise; its period is the key)."""

    session: Session
    deps: Deps
    community: Community | None
    local: datetime
    period: str
    key: str = ""


Work = Callable[[Run], int]


@dataclass(frozen=True)
class Daily:
    """Once a local day per community, from `hour` o'clock; looked at every `check` seconds."""

    hour: int
    check: int = 300

    def due(self, local: datetime) -> bool:
        return local.hour >= self.hour

    def period(self, local: datetime) -> str:
        return local.date().isoformat()


@dataclass(frozen=True)
class Every:
    """Once per slot of `seconds` (slots counted from the epoch, the same in every zone)."""

    seconds: int

    @property
    def check(self) -> int:
        return self.seconds

    def due(self, local: datetime) -> bool:
        return True

    def period(self, local: datetime) -> str:
        return f"{int(local.timestamp()) // self.seconds:015d}"


@dataclass(frozen=True)
class Job:
    id: str
    work: Work
    trigger: Daily | Every
    per_community: bool = True
    # a job over every community in transactions of its own (idempotent by its dedupe keys
    # and conditional updates): its period is claimed and committed first, then it runs
    own: Callable[[Deps], object] | None = None


def _unused(run: Run) -> int:
    return 0


def whole(job_id: str, work: Callable[[Deps], object], trigger: Daily | Every) -> Job:
    """A job of the whole deployment that opens its own transactions (`work(deps)`)."""
    return Job(job_id, _unused, trigger, per_community=False, own=work)


def _prune_send_log(run: Run) -> int:
    """The send log only needs the last hour (the widest rate-limit window is a minute)."""
    sendlog.prune_send_log(run.session, run.deps.clock())
    return 0


JOBS: list[Job] = [
    Job("prune_send_log", _prune_send_log, Every(seconds=600), per_community=False),
    Job("after_close", lambda r: after_close_in(r.session, r.deps, _c(r), r.local), Every(1800)),
    Job("send_reminders", lambda r: remind_in(r.session, r.deps, _c(r), r.local), Daily(hour=9)),
    Job("expire_points", lambda r: expire_in(r.session, r.deps, _c(r), r.local), Daily(hour=1)),
    Job("evaluate_tiers", lambda r: evaluate_in(r.session, r.deps, _c(r), r.local),
        Daily(hour=2)),
    whole("run_due_campaigns", run_due_campaigns, Every(60)),
    whole("refresh_tags", refresh_tags, Every(24 * HOUR)),
    whole("welcome_new_members", welcome_new_members, Every(HOUR)),
    whole("win_back", win_back, Every(6 * HOUR)),
    whole("remind_expiring_points", remind_expiring_points, Every(6 * HOUR)),
    whole("nudge_tiers", nudge_tiers, Every(6 * HOUR)),
    whole("confirm_commissions", confirm_commissions, Every(HOUR)),
    whole("settle_month", settle_month, Every(HOUR)),
    whole("review_distributors", review_distributors, Every(24 * HOUR)),
    whole("crown_champions", crown_champions, Every(HOUR)),
    whole("apply_retention", apply_retention, Every(24 * HOUR)),
]


def _c(run: Run) -> Community:
    assert run.community is not None, "a per-community job ran without its community"
    return run.community


def find(job_id: str) -> Job | None:
    return next((job for job in JOBS if job.id == job_id), None)


# stored with each job (whichever process adds it): a missed run is caught up once however
# late (coalesce), never twice
CATCH_UP: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
_BOUND: dict[str, Deps] = {}  # set by build_scheduler (the composition root), read by run_job


def bind(deps: Deps) -> None:
    _BOUND["deps"] = deps


def run_job(job_id: str, key: str = "") -> int:
    """What the job store holds: the job's id (and a one-off's key); how much it did."""
    job, deps = find(job_id), _BOUND.get("deps")
    if job is None or deps is None:
        log.error("job %s cannot run here: %s", job_id, "unknown" if job is None else "no deps")
        return 0
    scopes: list[int] = [0]
    if job.per_community:
        with UnitOfWork(deps.sessions) as uow:
            scopes = communities.ids(uow.session)
    done = sum(_run_in(deps, job, scope, key) for scope in scopes)
    if done:
        log.info("job %s%s: %d", job_id, f" ({key})" if key else "", done)
    return done


def _run_in(deps: Deps, job: Job, scope: int, key: str) -> int:
    """One scope's period, in one transaction with its record; 0 when done before."""
    with UnitOfWork(deps.sessions) as uow:
        community = communities.get(uow.session, scope) if scope else None
        zone = ZoneInfo(community.timezone) if community is not None else UTC
        now = deps.clock()
        local = now.astimezone(zone)
        if job.per_community and community is None:
            return 0
        if not key and not job.trigger.due(local):
            return 0
        period = key or job.trigger.period(local)
        record = f"{job.id}:{key}"[:64] if key else job.id
        if not scheduling.claim_period(uow.session, record, scope, period, now):
            return 0
        if job.own is None:
            done = job.work(Run(uow.session, deps, community, local, period, key))
            uow.commit()
            return done
        uow.commit()
    result = job.own(deps)
    return result if isinstance(result, int) else 0


class JobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's job store on the application's engine, which it must not dispose of
    when the scheduler shuts down (the engine belongs to the composition root)."""

    def shutdown(self) -> None:
        return None


class AsyncScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """Processes jobs only while running: APScheduler 3 takes one more look at due jobs
    when it is shut down, which a scheduler standing by must never do."""

    def _process_jobs(self) -> float | None:
        return super()._process_jobs() if self.state == STATE_RUNNING else None


class ThreadScheduler(BackgroundScheduler):  # type: ignore[misc]
    """The same, in a thread of its own (the console)."""

    def _process_jobs(self) -> float | None:
        return super()._process_jobs() if self.state == STATE_RUNNING else None


def build_scheduler(deps: Deps, engine: Engine, *, background: bool = False) -> BaseScheduler:
    """The scheduler on the shared job store (not started): on the asyncio loop, or in a
    thread (the console's blocking loop). Start it paused; the elected leader resumes it."""
    bind(deps)
    options = {
        "jobstores": {"default": JobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        "job_defaults": CATCH_UP,
        "timezone": "UTC",
    }
    return ThreadScheduler(**options) if background else AsyncScheduler(**options)


def ensure_jobs(scheduler: BaseScheduler) -> None:
    """Every declared job in the store, once: an existing one keeps its next run time (a
    restart or a second process never postpones it); a changed trigger replaces it; a
    repeating job no longer declared is removed (one-off runs stay until they have run)."""
    declared = {job.id for job in JOBS}
    for stored in scheduler.get_jobs():
        if ":" not in stored.id and stored.id not in declared:
            scheduler.remove_job(stored.id)
            log.info("job %s is no longer declared: removed from the store", stored.id)
    for job in JOBS:
        trigger = IntervalTrigger(seconds=job.trigger.check, timezone="UTC")
        stored = scheduler.get_job(job.id)
        if stored is not None and str(stored.trigger) == str(trigger):
            continue
        scheduler.add_job(run_job, trigger, args=[job.id], id=job.id, name=job.id,
                          replace_existing=True, **CATCH_UP)


def run_once_at(scheduler: BaseScheduler, job_id: str, key: str, at: datetime) -> str:
    """A one-off run of a declared job at `at` (a campaign's send time): persistent, run
    once by whichever process leads then, caught up if the leader was down; its id."""
    stored_id = f"{job_id}:{key}"
    scheduler.add_job(run_job, DateTrigger(run_date=at, timezone="UTC"), args=[job_id, key],
                      id=stored_id, name=stored_id, replace_existing=True, **CATCH_UP)
    return stored_id
