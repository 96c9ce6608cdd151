"""Consent to promotions, per channel, as a history: each change with its time and source."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.types import timestamp


class Consent(SQLModel, table=True):
    """One change of a member's consent to promotions and reminders on one channel.

    The account's `opted_out` flag is the current state every push reads; these rows are how
    it came to be (source: the command, an import, a leader, …)."""

    __table_args__ = (Index("ix_consent_member", "member_id", "channel", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    community_id: int = Field(foreign_key="community.id")
    channel: str = Field(max_length=16)
    granted: bool
    source: str = Field(max_length=32)
    at: datetime = timestamp()
