"""Group buys and their order lines (stock, waitlist, prices), and their ratings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from models.types import EnumText, timestamp


class BuyStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class LineStatus(StrEnum):
    """An order line: allocated (holds stock) -> paid -> delivered; or waitlisted; cancelled,
    refunded (a delivered line cancelled)."""

    ALLOCATED = "allocated"
    WAITLISTED = "waitlisted"
    PAID = "paid"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


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
    exclusive_tier: str | None = Field(default=None, max_length=16)  # 專屬: this tier and up only
    opens_at: datetime = timestamp()
    deadline: datetime = timestamp()
    status: BuyStatus = Field(default=BuyStatus.OPEN, sa_type=EnumText(BuyStatus))
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = timestamp()
    roster_rev: int = 1
    roster_published_rev: int = 0
    roster_message_id: str | None = Field(default=None, max_length=64)
    roster_published_at: datetime | None = timestamp(nullable=True)
    closed_at: datetime | None = timestamp(nullable=True)  # payment reminders count from here
    arrived_at: datetime | None = timestamp(nullable=True)  # the goods are there to pick up
    pickup_place: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    pickup_until: datetime | None = timestamp(nullable=True)


class Order(SQLModel, table=True):
    """One line of a group buy: allocated from stock, or waiting; money in minor units."""

    __table_args__ = (Index("ix_order_buy_status", "group_buy_id", "status", "id"),
                      # what a member bought, read from the index alone (segments, campaigns)
                      Index("ix_order_member_history", "member_id", "status", "group_buy_id",
                            "replenish_on"),
                      # /report reads orders by time, and only these columns
                      Index("ix_order_created", "created_at", "status", "group_buy_id",
                            "member_id", "net"))
    id: int | None = Field(default=None, primary_key=True)
    group_buy_id: int = Field(foreign_key="groupbuy.id")
    member_id: int = Field(foreign_key="member.id")  # indexed first in ix_order_member_history
    quantity: int
    status: LineStatus = Field(sa_type=EnumText(LineStatus))
    source_key: str = Field(max_length=160, unique=True)
    unit_price: int
    list_price: int
    tier_discount: int = 0
    coupon_id: int | None = Field(default=None, foreign_key="coupon.id")
    coupon_discount: int = 0
    points_used: int = 0
    points_value: int = 0
    net: int
    created_at: datetime = timestamp()
    paid_at: datetime | None = timestamp(nullable=True)
    delivered_at: datetime | None = timestamp(nullable=True)
    cancelled_at: datetime | None = timestamp(nullable=True)
    replenish_on: date | None = None
    picked_up_at: datetime | None = timestamp(nullable=True)  # the member took the goods
    closed_out: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # a waiting line the buy's close ended (cancelled): /reopen puts it back in line


class Rating(SQLModel, table=True):
    """A member's 1–5 rating of a group buy they received (one per member per buy)."""

    __table_args__ = (UniqueConstraint("group_buy_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    group_buy_id: int = Field(foreign_key="groupbuy.id")
    member_id: int = Field(foreign_key="member.id")
    score: int
    comment: str = Field(default="", max_length=200)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
