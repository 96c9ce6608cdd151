"""Segments a leader saved by name, and the tags on members (automatic interest tags from
purchases, recomputed daily, and tags a leader set by hand)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import timestamp


class Segment(SQLModel, table=True):
    """A named rule (models/rules/segments.py syntax), evaluated when used: never a list."""

    __table_args__ = (UniqueConstraint("community_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    name: str = Field(max_length=32)
    rule_text: str = Field(max_length=500)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = timestamp()


class MemberTag(SQLModel, table=True):
    """One tag on one member: source 'auto' (from purchases, replaced daily) or 'manual'."""

    __table_args__ = (UniqueConstraint("member_id", "tag"),
                      Index("ix_membertag_community_tag", "community_id", "tag"))
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    member_id: int = Field(foreign_key="member.id")
    tag: str = Field(max_length=32)
    source: str = Field(default="auto", max_length=8)
    created_at: datetime = timestamp()
