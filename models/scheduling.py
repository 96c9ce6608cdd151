"""The elected scheduler's state: the leader's lease and each job's last completed period.

Both are single conditional statements, so two processes racing get one winner on SQLite
(one writer at a time) and on PostgreSQL (the row lock, then the WHERE evaluated again).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models.db import dialect_name
from models.tables import JobRun, SchedulerLease
from models.types import rows_matched


def _insert_once(session: Session, model: type, **values: object) -> None:
    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def acquire_lease(session: Session, name: str, holder: str, now: datetime,
                  length: timedelta) -> bool:
    """Take or renew the lease: ours when free, expired, or already ours; False otherwise."""
    renewed = session.execute(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == name,
               (col(SchedulerLease.holder) == holder) | (col(SchedulerLease.expires_at) < now))
        .values(holder=holder, expires_at=now + length))
    if rows_matched(renewed) == 1:
        return True
    _insert_once(session, SchedulerLease, name=name, holder=holder, expires_at=now + length)
    return holder_of(session, name) == holder


def release_lease(session: Session, name: str, holder: str, now: datetime) -> bool:
    """Give the lease up at once (a clean shutdown): another process may take it now."""
    done = session.execute(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == name, col(SchedulerLease.holder) == holder)
        .values(expires_at=now))
    return rows_matched(done) == 1


def holder_of(session: Session, name: str) -> str | None:
    return session.execute(
        select(col(SchedulerLease.holder)).where(col(SchedulerLease.name) == name)
    ).scalar_one_or_none()


def claim_period(session: Session, job_id: str, scope: int, period: str, now: datetime) -> bool:
    """Mark `period` done for the job (in the job's transaction); False when it (or a later
    one) was done already. Periods compare as text: ISO dates, zero-padded slot numbers."""
    _insert_once(session, JobRun, job_id=job_id, scope=scope, period="", done_at=None)
    done = session.execute(
        update(JobRun)
        .where(col(JobRun.job_id) == job_id, col(JobRun.scope) == scope,
               col(JobRun.period) < period)
        .values(period=period, done_at=now))
    return rows_matched(done) == 1


def last_period(session: Session, job_id: str, scope: int = 0) -> str | None:
    return session.execute(
        select(col(JobRun.period)).where(col(JobRun.job_id) == job_id, col(JobRun.scope) == scope)
    ).scalar_one_or_none()
