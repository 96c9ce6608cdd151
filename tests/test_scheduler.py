"""The elected scheduler in one process: the lease, a job's period done once, local hours."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from models import communities, scheduling
from models.db import UnitOfWork
from models.tables import AuditLog, apscheduler_jobs
from scheduler import jobs
from scheduler.election import Elector
from scheduler.jobs import JOBS, Daily, Every, Job, Run, run_job

LEASE = timedelta(seconds=30)


def audit_rows(app, action: str) -> list[str]:
    with app.deps.sessions() as session:
        return list(session.execute(select(AuditLog.detail).where(AuditLog.action == action)
                                    .order_by(AuditLog.id)).scalars())


def write(run: Run) -> int:
    name = run.community.slug if run.community is not None else "all"
    communities.audit(run.session, None, "test", "job_ran", True, f"{name} {run.period}")
    return 1


def declared(job: Job):
    JOBS.append(job)
    return job


def test_the_lease_has_one_holder_until_it_runs_out(app, clock):
    with UnitOfWork(app.deps.sessions) as uow:
        assert scheduling.acquire_lease(uow.session, "s", "a", clock(), LEASE)
        assert not scheduling.acquire_lease(uow.session, "s", "b", clock(), LEASE)
        clock.advance(seconds=20)
        assert scheduling.acquire_lease(uow.session, "s", "a", clock(), LEASE)  # renewed
        clock.advance(seconds=29)
        assert not scheduling.acquire_lease(uow.session, "s", "b", clock(), LEASE)
        clock.advance(seconds=2)
        assert scheduling.acquire_lease(uow.session, "s", "b", clock(), LEASE)  # ran out
        assert not scheduling.acquire_lease(uow.session, "s", "a", clock(), LEASE)
        uow.commit()


def test_a_released_lease_is_taken_at_once(app, clock):
    with UnitOfWork(app.deps.sessions) as uow:
        assert scheduling.acquire_lease(uow.session, "s", "a", clock(), LEASE)
        assert scheduling.release_lease(uow.session, "s", "a", clock())
        clock.advance(seconds=0.001)
        assert scheduling.acquire_lease(uow.session, "s", "b", clock(), LEASE)
        uow.commit()


def test_a_period_is_done_once_however_often_the_job_fires(app, clock):
    job = declared(Job("t_every", write, Every(seconds=600), per_community=False))
    try:
        jobs.bind(app.deps)
        assert run_job(job.id) == 1
        clock.advance(seconds=30)
        assert run_job(job.id) == 0  # the same 10-minute slot
        clock.advance(seconds=600)
        assert run_job(job.id) == 1
        assert len(audit_rows(app, "job_ran")) == 2
    finally:
        JOBS.remove(job)


def test_a_daily_job_runs_per_community_from_its_local_hour_once_a_local_day(app, clock):
    job = declared(Job("t_daily", write, Daily(hour=13)))
    try:
        jobs.bind(app.deps)
        assert run_job(job.id) == 0  # 12:00 in Taipei
        clock.advance(hours=1)
        assert run_job(job.id) == 1  # 13:00
        clock.advance(hours=10)
        assert run_job(job.id) == 0  # 23:00, the same local day
        clock.advance(hours=14)
        assert run_job(job.id) == 1  # the next day, 13:00: a day missed is caught up once
        assert audit_rows(app, "job_ran") == ["demo 2026-03-10", "demo 2026-03-11"]
    finally:
        JOBS.remove(job)


def test_a_one_off_run_is_done_once(app, clock):
    job = declared(Job("t_once", write, Every(seconds=10**6), per_community=False))
    try:
        jobs.bind(app.deps)
        assert run_job(job.id, "c1") == 1
        assert run_job(job.id, "c1") == 0
        assert run_job(job.id, "c2") == 1
        assert audit_rows(app, "job_ran") == ["all c1", "all c2"]
    finally:
        JOBS.remove(job)


def test_of_two_electors_one_schedules_and_the_other_takes_over_when_it_stops(app, clock):
    schedulers = [jobs.build_scheduler(app.deps, app.engine, background=True) for _ in range(2)]
    electors = [Elector(app.deps.sessions, s, clock, lease=LEASE, holder=f"p{n}")
                for n, s in enumerate(schedulers)]
    try:
        for elector in electors:
            elector._start()
        assert [e.tick() for e in electors] == [True, False]
        assert schedulers[0].get_job("expire_points") is not None  # the leader stored the jobs
        assert [e.leading for e in electors] == [True, False]
        clock.advance(seconds=31)  # p0 stopped renewing (dead)
        assert electors[1].tick() and electors[1].leading
        assert not electors[0].tick() and not electors[0].leading  # back: it stands by
    finally:
        for elector in electors:
            elector._end()


def test_a_stored_job_keeps_its_next_run_time_when_another_process_starts(app, clock):
    first = jobs.build_scheduler(app.deps, app.engine, background=True)
    first.start(paused=True)
    try:
        jobs.ensure_jobs(first)
        before = first.get_job("prune_send_log").next_run_time
        jobs.ensure_jobs(first)
        assert first.get_job("prune_send_log").next_run_time == before
    finally:
        first.shutdown(wait=False)
    assert isinstance(first, BackgroundScheduler)


def test_jobs_store_only_their_id_never_the_deps(app):
    scheduler = jobs.build_scheduler(app.deps, app.engine, background=True)
    scheduler.start(paused=True)
    try:
        jobs.ensure_jobs(scheduler)
        with app.deps.sessions() as session:
            stored = session.execute(select(func.count()).select_from(apscheduler_jobs)
                                     ).scalar_one()
        assert stored == len(JOBS)
        assert all(job.args == (job.id,) for job in scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)


def test_a_job_no_longer_declared_leaves_the_store_and_a_one_off_stays(app, clock):
    scheduler = jobs.build_scheduler(app.deps, app.engine, background=True)
    scheduler.start(paused=True)
    job = declared(Job("t_gone", write, Every(seconds=60), per_community=False))
    try:
        jobs.ensure_jobs(scheduler)
        jobs.run_once_at(scheduler, "t_gone", "c9", clock() + timedelta(days=1))
        JOBS.remove(job)
        jobs.ensure_jobs(scheduler)
        assert scheduler.get_job("t_gone") is None
        assert scheduler.get_job("t_gone:c9").args == ("t_gone", "c9")
    finally:
        scheduler.shutdown(wait=False)
        if job in JOBS:
            JOBS.remove(job)
