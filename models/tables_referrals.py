"""Rewards for bringing members: the referral reward and the distributor champions.

The referral reward: one row per referee (a unique constraint), whatever rounds it went
through. Paid (or held for the leader's review) on the referee's first qualifying delivered
purchase; reversed when that purchase is refunded, and then earnable again; void when a leader
refuses a held one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import EnumText, timestamp


class RewardStatus(StrEnum):
    HELD = "held"  # a burst of referrals: waits for /release or /void
    PAID = "paid"
    REVERSED = "reversed"  # the purchase that earned it was refunded: earnable again
    VOID = "void"  # a leader refused it: never paid


class ReferralReward(SQLModel, table=True):
    __table_args__ = (Index("ix_referralreward_status", "community_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    referee_id: int = Field(foreign_key="member.id", unique=True)
    referrer_id: int = Field(foreign_key="member.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="order.id")  # the earning purchase
    status: RewardStatus = Field(sa_type=EnumText(RewardStatus))
    round: int = 1  # how many times it was earned (the ledger keys of each round differ)
    created_at: datetime = timestamp()
    decided_at: datetime | None = timestamp(nullable=True)  # released or voided
    decided_by_id: int | None = Field(default=None, foreign_key="member.id")


class Champion(SQLModel, table=True):
    """The top distributor of a month ('2026-02') or a quarter ('2026-Q1'): one per period
    and community (a unique constraint), so the reward is given once however often the job runs."""

    __table_args__ = (UniqueConstraint("community_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    period: str = Field(max_length=7)
    member_id: int = Field(foreign_key="member.id")
    sales: int
    first_sale_at: datetime = timestamp()
    reward_kind: str = Field(max_length=8)
    reward_value: int
    created_at: datetime = timestamp()
