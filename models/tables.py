"""The tables. Unique constraints encode the rules that must hold under concurrency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


def _ts(nullable: bool = False, index: bool = False) -> Any:
    column = Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


class Community(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=64)
    timezone: str = Field(default="Asia/Taipei", max_length=64)
    currency: str = Field(default="TWD", max_length=3)
    default_locale: str = Field(default="zh-Hant", max_length=8)
    programme: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


class ChatGroup(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    title: str = Field(default="", max_length=128)
    bound_at: datetime = _ts()


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
    referred_at: datetime | None = _ts(nullable=True)
    opted_out: bool = False  # no longer read: opting out is per channel (ChannelAccount)
    first_purchase_at: datetime | None = _ts(nullable=True)
    last_checkin_on: date | None = None
    checkin_streak: int = 0
    merged_into_id: int | None = Field(default=None, foreign_key="member.id")
    joined_at: datetime = _ts()


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
    last_seen_at: datetime = _ts()
    opted_out: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    last_inbound_at: datetime | None = _ts(nullable=True)  # a reply window opens (WeChat)
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
    at: datetime = _ts()


class TierChange(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    from_tier: str = Field(max_length=16)
    to_tier: str = Field(max_length=16)
    reason: str = Field(max_length=200)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = _ts()


class SpendEntry(SQLModel, table=True):
    """Append-only record of what a member spent (delivered purchases, refunds negative)."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    amount: int
    source_key: str = Field(max_length=128, unique=True)
    occurred_at: datetime = _ts()


class PointsEntry(SQLModel, table=True):
    """Append-only points ledger; the member's cached balance is always the sum of `delta`
    and the cached points debt (owed by a refund, paid by later earnings) the sum of
    `debt_delta`."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    delta: int
    debt_delta: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    kind: str = Field(max_length=16)
    reason: str = Field(default="", max_length=200)
    expires_on: date | None = None
    idem_key: str = Field(max_length=128, unique=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _ts()


class CouponTemplate(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("community_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    key: str = Field(max_length=32)
    name: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    value: int
    min_spend: int = 0
    valid_days: int = 30
    per_member_limit: int | None = None


class Coupon(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="coupontemplate.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    code: str = Field(max_length=16, unique=True)
    issue_key: str | None = Field(default=None, max_length=128, unique=True)
    issued_at: datetime = _ts()
    valid_from: datetime = _ts()
    valid_until: datetime = _ts()
    redeemed_at: datetime | None = _ts(nullable=True)


class InboundEvent(SQLModel, table=True):
    """Every inbound event; a redelivery finds its key here and changes nothing.

    A webhook stores the event (payload) before answering 200. A worker claims it with a
    lease (claimed_until), the handler sets processed_at and keeps its answer (replies) in
    its own transaction, and answered_at is set once the answer has left. A worker that dies
    leaves its lease to run out; the next one processes the event, or sends the kept answer.
    """

    __table_args__ = (UniqueConstraint("channel", "event_key"),
                      Index("ix_inbound_open", "answered_at", "claimed_until"))
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    event_key: str = Field(max_length=128)
    received_at: datetime = _ts()
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    processed_at: datetime | None = _ts(nullable=True)
    claimed_until: datetime | None = _ts(nullable=True)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    replies: list[dict[str, Any]] | None = Field(default=None,
                                                 sa_column=Column(JSON, nullable=True))
    answered_at: datetime | None = _ts(nullable=True)


class OutboxMessage(SQLModel, table=True):
    """A push waiting to leave at the platform's pace: pending -> sending -> sent | failed.

    'sending': its send is logged and the platform call under way (in doubt after a crash)."""

    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int | None = Field(default=None, foreign_key="community.id")
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    is_group: bool = False
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=128, unique=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    kind: str = Field(default="reply", max_length=16)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = _ts()
    not_before: datetime = _ts()
    claimed_until: datetime | None = _ts(nullable=True)
    sent_at: datetime | None = _ts(nullable=True)


class SendLog(SQLModel, table=True):
    """When each message left, per chat: the shared memory behind the platform rate limits."""

    __table_args__ = (Index("ix_sendlog_chat", "channel", "chat_id", "sent_at"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    is_group: bool = False
    sent_at: datetime = _ts(index=True)


class ReplyToken(SQLModel, table=True):
    """A platform's one-use token for answering an event (LINE, about a minute): kept while
    fresh so whichever process answers the event can use it, once."""

    __table_args__ = (UniqueConstraint("channel", "event_key"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    event_key: str = Field(max_length=128)
    token: str = Field(max_length=255, index=True)
    received_at: datetime = _ts(index=True)
    used_at: datetime | None = _ts(nullable=True)


class PacingState(SQLModel, table=True):
    """One row per channel (bot): locked around every send reservation; holds a 429 pause."""

    channel: str = Field(max_length=16, primary_key=True)
    paused_until: datetime | None = _ts(nullable=True)


class GroupBuy(SQLModel, table=True):
    """One group buy (團購 / 接龍) running in one chat group; stock counted in `allocated`."""

    __table_args__ = (UniqueConstraint("community_id", "number"),
                      Index("ix_groupbuy_chat", "channel", "chat_id", "status"))
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    number: int
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    title: str = Field(max_length=100)
    price: int
    stock: int | None = None
    allocated: int = 0
    per_member_limit: int | None = None
    category: str = Field(default="", max_length=32)
    cycle_days: int | None = None
    early_tier: str | None = Field(default=None, max_length=16)
    opens_at: datetime = _ts()
    deadline: datetime = _ts()
    status: str = Field(default="open", max_length=16)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _ts()
    roster_rev: int = 1
    roster_published_rev: int = 0
    roster_message_id: str | None = Field(default=None, max_length=64)
    roster_published_at: datetime | None = _ts(nullable=True)


class Order(SQLModel, table=True):
    """One line of a group buy: allocated from stock, or waiting; money in minor units."""

    __table_args__ = (Index("ix_order_buy_status", "group_buy_id", "status", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    group_buy_id: int = Field(foreign_key="groupbuy.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    quantity: int
    status: str = Field(max_length=16)
    source_key: str = Field(max_length=160, unique=True)
    unit_price: int
    list_price: int
    tier_discount: int = 0
    coupon_id: int | None = Field(default=None, foreign_key="coupon.id")
    coupon_discount: int = 0
    points_used: int = 0
    points_value: int = 0
    net: int
    created_at: datetime = _ts()
    paid_at: datetime | None = _ts(nullable=True)
    delivered_at: datetime | None = _ts(nullable=True)
    cancelled_at: datetime | None = _ts(nullable=True)
    replenish_on: date | None = None


class CommissionEvent(SQLModel, table=True):
    """A sale (or its reversal) that a distributor may earn on; amounts settle later."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True)
    beneficiary_id: int = Field(foreign_key="member.id", index=True)
    level: int
    base_amount: int
    idem_key: str = Field(max_length=128, unique=True)
    created_at: datetime = _ts()


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
    updated_at: datetime = _ts()


class LinkCode(SQLModel, table=True):
    """A one-time code that joins a second platform account to a member."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)
    member_id: int = Field(foreign_key="member.id")
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)
