"""Campaigns (a segment, a message or two, a holdout, a send time or a schedule) and who each
run went to, with which variant: the report counts from here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import EnumText, timestamp


class CampaignStatus(StrEnum):
    """scheduled (first run ahead) -> running (repeating: sent, more to come) | finished
    (sent once, or its schedule ended); cancelled by a leader before that."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class Campaign(SQLModel, table=True):
    """Due when `next_run_at` has come and it is scheduled or running: the scheduler claims a
    run with one conditional UPDATE on (status, next_run_at), in the run's own transaction."""

    __table_args__ = (UniqueConstraint("community_id", "name"),
                      Index("ix_campaign_due", "status", "next_run_at"))
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    name: str = Field(max_length=32)
    segment: str = Field(max_length=64)
    message_a: str = Field(max_length=1000)
    message_b: str | None = Field(default=None, max_length=1000)
    holdout_pct: int = 0
    multiplier_pct: int = 100  # points on recipients' purchases in the window (100 = ×1)
    schedule: str = Field(default="", max_length=24)  # '' once; 'month:8@10:00' repeating
    next_run_at: datetime | None = timestamp(nullable=True)
    status: CampaignStatus = Field(default=CampaignStatus.SCHEDULED,
                                   sa_type=EnumText(CampaignStatus))
    runs: int = 0
    last_run_at: datetime | None = timestamp(nullable=True)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = timestamp()
    ended_at: datetime | None = timestamp(nullable=True)


class CampaignRecipient(SQLModel, table=True):
    """One member in one run: variant A, B or H (holdout, sent nothing); `outbox_key` when a
    message was queued, else `skipped` says why not (opted out, unreachable, weekly cap).
    Purchases from `sent_at` until `window_until` convert (and earn the multiplier)."""

    __table_args__ = (UniqueConstraint("campaign_id", "run", "member_id"),
                      Index("ix_campaignrecipient_member", "member_id", "sent_at"))
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    run: int
    member_id: int = Field(foreign_key="member.id")
    variant: str = Field(max_length=1)
    sent_at: datetime = timestamp()
    window_until: datetime = timestamp()
    outbox_key: str | None = Field(default=None, max_length=128)
    skipped: str = Field(default="", max_length=16)


class CampaignRun(SQLModel, table=True):
    """One run of a campaign as it went: how many members its segment held then (0: it was
    empty, nothing was sent), how many were sent a message, held back, or skipped (opted out,
    unreachable, over the cap). Written in the run's own transaction, once per run."""

    __table_args__ = (UniqueConstraint("campaign_id", "run"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    run: int
    ran_at: datetime = timestamp()
    members: int = 0
    sent: int = 0
    holdout: int = 0
    skipped: int = 0
