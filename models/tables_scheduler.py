"""The elected scheduler's tables: the leader's lease, each job's last completed period, and
APScheduler's own job store (declared here so the migrations build it, not the job store)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlmodel import Field, SQLModel

from models.types import timestamp


class SchedulerLease(SQLModel, table=True):
    """One row per lease name: who schedules now, and until when unless renewed."""

    name: str = Field(max_length=32, primary_key=True)
    holder: str = Field(max_length=128)
    expires_at: datetime = timestamp()


class JobRun(SQLModel, table=True):
    """The last period a job completed, per community (scope 0: the whole deployment).

    Claimed in the job's own transaction with a conditional UPDATE (period < the new one), so
    a period runs once however many leaders a takeover briefly had."""

    job_id: str = Field(max_length=64, primary_key=True)
    scope: int = Field(default=0, primary_key=True)
    period: str = Field(default="", max_length=32)
    done_at: datetime | None = timestamp(nullable=True)


# APScheduler 3's SQLAlchemyJobStore table, exactly as it declares it (it finds it existing).
JOBSTORE_TABLE = "apscheduler_jobs"
apscheduler_jobs = Table(
    JOBSTORE_TABLE, SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
