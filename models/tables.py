"""The tables. Unique constraints encode the rules that must hold under concurrency.

Here: communities, chat groups, members and their platform accounts, roles, audit, guided
flows, link codes. Group buys and orders live in models.tables_buys, the ledgers and coupons
in models.tables_ledgers, distributors and the commission ledger in
models.tables_distribution, inbound events, the outbox and send pacing in models.tables_messages;
every table (and status enum) is importable from here too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from models.tables_buys import BuyStatus, GroupBuy, LineStatus, Order, Rating
from models.tables_campaigns import Campaign, CampaignRecipient, CampaignRun, CampaignStatus
from models.tables_distribution import (
    CommissionClock,
    CommissionEntry,
    CommissionKind,
    CommissionMonth,
    Distributor,
    DistributorStatus,
    Statement,
)
from models.tables_ledgers import Coupon, CouponTemplate, PointsEntry, SpendEntry
from models.tables_messages import (
    InboundEvent,
    OutboxMessage,
    OutboxStatus,
    PacingState,
    ReplyToken,
    SendLog,
)
from models.tables_privacy import Consent
from models.tables_referrals import Champion, ReferralReward, RewardStatus
from models.tables_rewards import Redemption, Reward
from models.tables_scheduler import JobRun, SchedulerLease, apscheduler_jobs
from models.tables_segments import MemberTag, Segment
from models.types import timestamp

__all__ = [
    "AuditLog", "BuyStatus", "Campaign", "CampaignRecipient", "CampaignRun", "CampaignStatus",
    "Champion", "ChannelAccount", "ChatGroup", "CommissionClock", "CommissionEntry", "CommissionKind",
    "CommissionMonth", "Community", "Consent", "Conversation", "Coupon", "CouponTemplate",
    "Distributor", "DistributorStatus", "GroupBuy", "InboundEvent", "JobRun", "LineStatus",
    "LinkCode", "Member", "MemberTag", "Order", "OutboxMessage", "OutboxStatus", "PacingState",
    "PointsEntry", "Rating", "Redemption", "ReferralReward", "ReplyToken", "Reward",
    "RewardStatus", "Role", "SchedulerLease", "Segment", "SendLog", "SpendEntry", "Statement",
    "TierChange", "apscheduler_jobs",
]


class Community(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=64)
    timezone: str = Field(default="Asia/Taipei", max_length=64)
    currency: str = Field(default="TWD", max_length=3)
    default_locale: str = Field(default="zh-Hant", max_length=8)
    programme: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = timestamp()


class ChatGroup(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    title: str = Field(default="", max_length=128)
    bound_at: datetime = timestamp()


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    display_name: str = Field(default="", max_length=64)
    locale: str | None = Field(default=None, max_length=8)
    birthday_month: int | None = None
    birthday_day: int | None = None
    tier: str = Field(default="bronze", max_length=16)
    points_balance: int = 0
    points_debt: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    referral_code: str = Field(max_length=16, unique=True)
    referred_by_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    referred_at: datetime | None = timestamp(nullable=True)
    opted_out: bool = False  # no longer read: opting out is per channel (ChannelAccount)
    first_purchase_at: datetime | None = timestamp(nullable=True)
    last_checkin_on: date | None = None
    checkin_streak: int = 0
    merged_into_id: int | None = Field(default=None, foreign_key="member.id")
    joined_at: datetime = timestamp()
    forgotten_at: datetime | None = timestamp(nullable=True)  # /forget erased the person


class ChannelAccount(SQLModel, table=True):
    """A platform identity (channel + external id) as a member of one community."""

    __table_args__ = (
        UniqueConstraint("channel", "external_id", "community_id"),
        Index("ix_channelaccount_handle", "community_id", "handle"),
    )
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    community_id: int = Field(foreign_key="community.id")
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    handle: str | None = Field(default=None, max_length=64)
    private_chat: str | None = Field(default=None, max_length=64)
    last_seen_at: datetime = timestamp()
    opted_out: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    last_inbound_at: datetime | None = timestamp(nullable=True)  # a reply window opens (WeChat)
    pushes_since_inbound: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Role(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("community_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    member_id: int = Field(foreign_key="member.id")
    role: str = Field(max_length=16)


class AuditLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    actor: str = Field(max_length=96)
    action: str = Field(max_length=32)
    allowed: bool
    detail: str = Field(default="", max_length=500)
    old_value: str | None = Field(default=None, max_length=200)  # a setting's value before
    new_value: str | None = Field(default=None, max_length=200)  # and after the change
    at: datetime = timestamp()


class TierChange(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    from_tier: str = Field(max_length=16)
    to_tier: str = Field(max_length=16)
    reason: str = Field(max_length=200)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = timestamp()


class Conversation(SQLModel, table=True):
    """A guided flow in progress (e.g. opening a group buy step by step)."""

    __table_args__ = (UniqueConstraint("channel", "chat_id", "sender"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    sender: str = Field(max_length=64)
    flow: str = Field(max_length=32)
    step: int = 0
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = timestamp()


class LinkCode(SQLModel, table=True):
    """A one-time code that joins a second platform account to a member."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)
    member_id: int = Field(foreign_key="member.id")
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)
