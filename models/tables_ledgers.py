"""The append-only ledgers (spend, points) and coupons."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import timestamp


class SpendEntry(SQLModel, table=True):
    """Append-only record of what a member spent (delivered purchases, refunds negative)."""

    # a member's spend over a period, summed from the index alone (tiers, segments, campaigns)
    __table_args__ = (Index("ix_spendentry_member_time", "member_id", "occurred_at", "amount"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    amount: int
    source_key: str = Field(max_length=128, unique=True)
    occurred_at: datetime = timestamp()


class PointsEntry(SQLModel, table=True):
    """Append-only points ledger; the member's cached balance is always the sum of `delta`
    and the cached points debt (owed by a refund, paid by later earnings) the sum of
    `debt_delta`."""

    __table_args__ = (Index("ix_pointsentry_created", "created_at", "member_id", "kind", "delta"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    delta: int
    debt_delta: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    kind: str = Field(max_length=16)
    reason: str = Field(default="", max_length=200)
    expires_on: date | None = None
    idem_key: str = Field(max_length=128, unique=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = timestamp()


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
    valid_until: datetime | None = timestamp(nullable=True)  # a fixed last day wins over valid_days
    per_member_limit: int | None = None


class Coupon(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="coupontemplate.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    code: str = Field(max_length=16, unique=True)
    issue_key: str | None = Field(default=None, max_length=128, unique=True)
    issued_at: datetime = timestamp()
    valid_from: datetime = timestamp()
    valid_until: datetime = timestamp()
    redeemed_at: datetime | None = timestamp(nullable=True)
