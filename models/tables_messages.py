"""Inbound events, the outbox, and the shared memory behind the platform send pace."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.types import EnumText, timestamp


class OutboxStatus(StrEnum):
    """pending -> sending -> sent | failed; 'sending' whose lease ran out is in doubt."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class InboundEvent(SQLModel, table=True):
    """Every inbound event; a redelivery finds its key here and changes nothing.

    A webhook stores the event (payload) before answering 200. A worker claims it with a
    lease (claimed_until), the handler sets processed_at and keeps its answer (replies) in
    its own transaction, and answered_at is set once the answer has left. A worker that dies
    leaves its lease to run out; the next one processes the event, or sends the kept answer.
    """

    __table_args__ = (UniqueConstraint("channel", "event_key"),
                      # only the events not answered yet: the sweeper's, a few pages at most
                      Index("ix_inbound_open", "claimed_until", "received_at",
                            sqlite_where=text("answered_at IS NULL"),
                            postgresql_where=text("answered_at IS NULL")))
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    event_key: str = Field(max_length=128)
    received_at: datetime = timestamp()
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    processed_at: datetime | None = timestamp(nullable=True)
    claimed_until: datetime | None = timestamp(nullable=True)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    replies: list[dict[str, Any]] | None = Field(default=None,
                                                 sa_column=Column(JSON, nullable=True))
    answered_at: datetime | None = timestamp(nullable=True)


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
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=EnumText(OutboxStatus))
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = timestamp()
    not_before: datetime = timestamp()
    claimed_until: datetime | None = timestamp(nullable=True)
    sent_at: datetime | None = timestamp(nullable=True)
    # LINE's X-Line-Retry-Key, made when queued and sent with every attempt: LINE answers a
    # repeated key it already accepted with 409, so a retried push is never delivered twice.
    retry_key: str | None = Field(default=None, max_length=36)
    # identical bodies (not personalised) go to many members in one LINE multicast
    body_hash: str | None = Field(default=None, max_length=32)


class SendLog(SQLModel, table=True):
    """When each message left, per chat: the shared memory behind the platform rate limits."""

    __table_args__ = (Index("ix_sendlog_chat", "channel", "chat_id", "sent_at"),
                      Index("ix_sendlog_channel_sent", "channel", "sent_at"))
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    is_group: bool = False
    sent_at: datetime = timestamp(index=True)


class ReplyToken(SQLModel, table=True):
    """A platform's one-use token for answering an event (LINE, about a minute): kept while
    fresh so whichever process answers the event can use it, once."""

    __table_args__ = (UniqueConstraint("channel", "event_key"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    event_key: str = Field(max_length=128)
    token: str = Field(max_length=255, index=True)
    received_at: datetime = timestamp(index=True)
    used_at: datetime | None = timestamp(nullable=True)


class PacingState(SQLModel, table=True):
    """One row per channel (bot): locked around every send reservation; holds a 429 pause."""

    channel: str = Field(max_length=16, primary_key=True)
    paused_until: datetime | None = timestamp(nullable=True)
    # why sending stopped until paused_until (LINE's monthly quota), None for a mere 429
    stopped_reason: str | None = Field(default=None, max_length=200)
