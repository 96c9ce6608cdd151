"""The rewards catalogue (積分商城): what a member may buy with points, and each redemption."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import timestamp


class Reward(SQLModel, table=True):
    """One catalogue item: a coupon (its terms in `template_id`) or a gift, for `points`.

    `stock` None is unlimited; otherwise it only goes down, by one conditional UPDATE per
    redemption (`WHERE stock > 0`). `number` is what members type (`/redeem 3`).
    """

    __table_args__ = (UniqueConstraint("community_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    number: int
    name: str = Field(max_length=64)
    template_id: int = Field(foreign_key="coupontemplate.id")
    points: int
    stock: int | None = None
    per_member_limit: int | None = None
    active: bool = True
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = timestamp()


class Redemption(SQLModel, table=True):
    """A member's redemption: points spent, coupon issued. The key (the inbound message) is
    unique, so a double tap or a redelivery redeems once."""

    __table_args__ = (Index("ix_redemption_reward_member", "reward_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    reward_id: int = Field(foreign_key="reward.id")
    member_id: int = Field(foreign_key="member.id")
    points: int
    coupon_id: int = Field(foreign_key="coupon.id")
    redemption_key: str = Field(max_length=128, unique=True)
    created_at: datetime = timestamp()
